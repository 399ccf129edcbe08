//===- Glue.cpp - Generated code appended to each translation unit -----===//

#include "cleave/Emit/Glue.h"

#include "cleave/Analysis/Serializable.h"
#include "cleave/Frontend/Frontend.h"
#include "cleave/Frontend/Names.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/QualTypeNames.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>

using namespace clang;

namespace cleave {

namespace {


/// How generated code reaches the subobjects of one class: its bases and its
/// own data members, in order, with the access tags of the members that are
/// not public.
struct RecordLayout {
  const CXXRecordDecl *RD;
  std::string Type;   ///< "::Account"
  std::string Marker; ///< forMarker() at its declaration
  llvm::SmallVector<std::string, 2> Bases;
  llvm::StringSet<> PublicBases;
  struct Field {
    const FieldDecl *Decl;
    std::string Tag; ///< empty when the member is public
  };
  llvm::SmallVector<Field, 8> Fields;

  bool empty() const { return Bases.empty() && Fields.empty(); }

  /// The member as an lvalue of object expression \p Obj ("V").
  std::string member(const Field &F, llvm::StringRef Obj) const {
    if (F.Tag.empty())
      return (Obj + "." + F.Decl->getName()).str();
    return ("(" + Obj + ".*memberPointer(::cleave::access::" + F.Tag + "{}))")
        .str();
  }
  /// The base as an lvalue of \p Obj. A C-style cast for a base that is
  /// not public: unlike static_cast, it may name a private base.
  std::string base(llvm::StringRef Base, llvm::StringRef Obj,
                   bool Const) const {
    std::string Ref = ((Const ? "const " : "") + Base + " &").str();
    if (PublicBases.contains(Base))
      return "static_cast<" + Ref + ">(" + Obj.str() + ")";
    return "((" + Ref + ")" + Obj.str() + ")";
  }
};

/// A name for the access tag of member \p F that no other tag has.
std::string accessTagName(const FieldDecl *F, llvm::StringSet<> &Used) {
  std::string Base;
  for (char C : qualifiedName(F->getParent()) + "_" + F->getName().str())
    Base += std::isalnum(static_cast<unsigned char>(C)) ? C : '_';
  std::string Name = Base;
  for (unsigned I = 2; !Used.insert(Name).second; ++I)
    Name = Base + "_" + std::to_string(I);
  return Name;
}

/// The codecs of every enumeration and class in \p Records: enumerator name
/// tables, access tags for members that are not public, JSON codecs,
/// binary frame codecs, and the FrameRecord that lets a frame rebuild a
/// class without running its constructor.
void generateCodecs(llvm::raw_ostream &OS, ASTContext &Ctx,
                    llvm::ArrayRef<const CXXRecordDecl *> Records,
                    SerializableChecker &Types) {
  llvm::ArrayRef<const EnumDecl *> Enums = SerializableChecker::enumsOf(Ctx);
  if (Records.empty() && Enums.empty())
    return;

  llvm::StringSet<> UsedTags;
  std::vector<RecordLayout> Layouts;
  for (const CXXRecordDecl *RD : Records) {
    RecordLayout L;
    L.RD = RD;
    L.Type = codeTypeName(Ctx.getRecordType(RD), Ctx);
    L.Marker = forMarker(sourcePos(Ctx.getSourceManager(), RD->getLocation()),
                         "the codecs of '" +
                             displayTypeName(Ctx.getRecordType(RD), Ctx) + "'");
    for (const CXXBaseSpecifier &B : RD->bases()) {
      L.Bases.push_back(codeTypeName(B.getType(), Ctx));
      if (B.getAccessSpecifier() == AS_public)
        L.PublicBases.insert(L.Bases.back());
    }
    for (const FieldDecl *F : RD->fields()) {
      RecordLayout::Field Out{F, ""};
      if (F->getAccess() != AS_public)
        Out.Tag = accessTagName(F, UsedTags);
      L.Fields.push_back(std::move(Out));
    }
    Layouts.push_back(std::move(L));
  }

  // Members that are not public, reached through the explicit
  // instantiation of access::Expose (see codec.h).
  if (!UsedTags.empty()) {
    OS << "namespace cleave {\nnamespace access {\n";
    for (const RecordLayout &L : Layouts)
      for (const RecordLayout::Field &F : L.Fields) {
        if (F.Tag.empty())
          continue;
        OS << "struct " << F.Tag << " {\n"
           << "  friend constexpr auto memberPointer(" << F.Tag << ");\n"
           << "};\n"
           << "template struct Expose<" << F.Tag << ", &" << L.Type
           << "::" << F.Decl->getName() << ">;\n";
      }
    OS << "} // namespace access\n} // namespace cleave\n";
  }

  OS << "namespace cleave {\nnamespace codec {\n";
  for (const EnumDecl *ED : Enums) {
    if (ED->enumerators().empty())
      continue;
    std::string T = codeTypeName(Ctx.getEnumType(ED), Ctx);
    OS << "template <> struct EnumNames<" << T << "> {\n"
       << "  static constexpr EnumName<" << T << "> Table[] = {\n";
    for (const EnumConstantDecl *E : ED->enumerators())
      OS << "      {" << T << "::" << E->getName() << ", "
         << cppStringLiteral(E->getName()) << "},\n";
    OS << "  };\n};\n";
  }
  // Declare every codec first so that classes may refer to each other (and
  // to themselves through containers) in any order.
  for (const RecordLayout &L : Layouts) {
    const std::string &T = L.Type;
    OS << L.Marker;
    OS << "template <> struct Codec<" << T << "> {\n"
       << "  static void encode(Json &cleave_j, const " << T << " &cleave_v);\n"
       << "  static void decode(const Json &cleave_j, " << T
       << " &cleave_v, const Path &cleave_p);\n"
       << "  static void encodeMembers(Json &cleave_j, const " << T
       << " &cleave_v);\n"
       << "  static void decodeMembers(const Json &cleave_j, " << T
       << " &cleave_v, const Path &cleave_p);\n"
       << "};\n";
  }
  for (const RecordLayout &L : Layouts) {
    const std::string &T = L.Type;
    OS << L.Marker;
    OS << "inline void Codec<" << T << ">::encode(Json &cleave_j, const " << T
       << " &cleave_v) {\n  cleave_j = Json::object();\n  "
          "encodeMembers(cleave_j, cleave_v);\n}\n";
    OS << "inline void Codec<" << T << ">::decode(const Json &cleave_j, " << T
       << " &cleave_v, const Path &cleave_p) {\n"
       << "  if (!cleave_j.is_object())\n"
       << "    fail(cleave_p, std::string(\"expected an object for '"
       << displayTypeName(Ctx.getRecordType(L.RD), Ctx)
       << "', got \") + kindOf(cleave_j));\n"
       << "  decodeMembers(cleave_j, cleave_v, cleave_p);\n}\n";
    // A base's members sit beside the class's own, in one object.
    for (bool Decode : {false, true}) {
      const char *Fn = Decode ? "decodeMember" : "encodeMember";
      const char *PathArg = Decode ? ", cleave_p" : "";
      OS << "inline void Codec<" << T << ">::" << Fn << "s("
         << (Decode ? "const Json &cleave_j, " : "Json &cleave_j, const ") << T
         << " &cleave_v" << (Decode ? ", const Path &cleave_p" : "") << ") {\n";
      if (L.empty())
        OS << "  (void)cleave_j;\n  (void)cleave_v;\n"
           << (Decode ? "  (void)cleave_p;\n" : "");
      for (const std::string &B : L.Bases)
        OS << "  Codec<" << B << ">::" << Fn << "s(cleave_j, "
           << L.base(B, "cleave_v", !Decode) << PathArg << ");\n";
      for (const RecordLayout::Field &F : L.Fields)
        OS << "  ::cleave::codec::" << Fn << "(cleave_j, " << cppStringLiteral(F.Decl->getName())
           << ", " << L.member(F, "cleave_v") << PathArg << ");\n";
      OS << "}\n";
    }
  }
  OS << "} // namespace codec\n} // namespace cleave\n";
  if (Layouts.empty())
    return;

  // The binary frame codecs that continuation frames use: the bases, then
  // the members, in order. A class without any is one byte.
  OS << "namespace cleave {\nnamespace frame {\n";
  for (const RecordLayout &L : Layouts) {
    const std::string &T = L.Type;
    if (L.empty()) {
      OS << "template <> struct FrameCodec<" << T << "> : FrameEmptyCodec<"
         << T << "> {};\n";
      continue;
    }
    OS << "template <> struct FrameCodec<" << T << "> {\n"
       << "  static void encode(FrameWriter &cleave_w, const " << T
       << " &cleave_v);\n"
       << "  static bool decode(FrameReader &cleave_r, " << T
       << " &cleave_v);\n"
       << "};\n";
  }
  // What constructFrame needs to rebuild each class (see frame.h). Every
  // resurrectable class can be rebuilt member by member; the runtime does so
  // where it is not quiet or has no default constructor (which it asks of
  // the C++ compiler).
  std::vector<bool> Rebuilt;
  for (const RecordLayout &L : Layouts) {
    QualType RT = Ctx.getRecordType(L.RD);
    OS << L.Marker;
    bool Quiet = Types.isQuiet(RT);
    bool Resurrectable = Types.isResurrectable(RT);
    Rebuilt.push_back(Resurrectable);
    OS << "template <> struct FrameRecord<" << L.Type << "> {\n"
       << "  static constexpr bool Quiet = " << (Quiet ? "true" : "false")
       << ";\n"
       << "  static constexpr bool Resurrectable = "
       << (Resurrectable ? "true" : "false") << ";\n"
       << "  static constexpr std::size_t Subobjects = "
       << L.Bases.size() + L.Fields.size() << ";\n";
    if (Rebuilt.back())
      OS << "  static bool construct(FrameReader &cleave_r, " << L.Type
         << " *cleave_p);\n"
         << "  static void releaseFirst(" << L.Type
         << " *cleave_p, std::size_t cleave_n);\n";
    OS << "};\n";
  }
  for (size_t I = 0; I < Layouts.size(); ++I) {
    const RecordLayout &L = Layouts[I];
    const std::string &T = L.Type;
    OS << L.Marker;
    if (!L.empty()) {
      OS << "inline void FrameCodec<" << T
         << ">::encode(FrameWriter &cleave_w, const " << T << " &cleave_v) {\n";
      for (const std::string &B : L.Bases)
        OS << "  ::cleave::frame::frameMember(cleave_w, " << L.base(B, "cleave_v", true)
           << ");\n";
      for (const RecordLayout::Field &F : L.Fields)
        OS << "  ::cleave::frame::frameMember(cleave_w, " << L.member(F, "cleave_v") << ");\n";
      OS << "}\n"
         << "inline bool FrameCodec<" << T
         << ">::decode(FrameReader &cleave_r, " << T << " &cleave_v) {\n";
      for (const std::string &B : L.Bases)
        OS << "  ::cleave::frame::frameMember(cleave_r, " << L.base(B, "cleave_v", false)
           << ");\n";
      for (const RecordLayout::Field &F : L.Fields)
        OS << "  ::cleave::frame::frameMember(cleave_r, " << L.member(F, "cleave_v") << ");\n";
      OS << "  return cleave_r.ok();\n}\n";
    }
    if (!Rebuilt[I])
      continue;
    // Each subobject is built in the storage of *P before *P is an object:
    // its constructor is exactly what must not run.
    // Calls into the runtime are qualified, here as in its headers: an
    // unqualified call would look up its name in the namespaces of the
    // arguments' types too (ADL), which for a type nested many levels deep
    // (std::vector<std::vector<...>>) costs Clang time exponential in the
    // depth.
    // constructMember deduces each type from the address, so that no member
    // type (perhaps a private typedef) is spelt.
    llvm::SmallVector<std::string, 8> Parts;
    for (const std::string &B : L.Bases)
      Parts.push_back(L.PublicBases.contains(B)
                          ? "static_cast<" + B + " *>(cleave_p)"
                          : "(" + B + " *)cleave_p");
    for (const RecordLayout::Field &F : L.Fields)
      Parts.push_back("&" + L.member(F, "(*cleave_p)"));
    OS << "inline bool FrameRecord<" << T
       << ">::construct(FrameReader &cleave_r, " << T
       << " *cleave_p) {\n  std::size_t cleave_built = 0;\n";
    for (size_t J = 0; J < Parts.size(); ++J)
      OS << (J ? "      " : "  if (") << "::cleave::frame::constructMember(cleave_r, "
         << Parts[J] << ") && ++cleave_built"
         << (J + 1 < Parts.size() ? " &&\n" : ")\n");
    if (Parts.empty())
      OS << "  if (cleave_r.ok())\n";
    OS << "    return true;\n  releaseFirst(cleave_p, cleave_built);\n  return "
          "false;\n}\n";
    OS << "inline void FrameRecord<" << T << ">::releaseFirst(" << T
       << " *cleave_p, std::size_t cleave_n) {\n  switch (cleave_n) {\n";
    for (size_t J = Parts.size(); J > 0; --J)
      OS << "  case " << J << ":\n    ::cleave::frame::releaseQuietly(" << Parts[J - 1]
         << ");\n    [[fallthrough]];\n";
    OS << "  default:\n    (void)cleave_p;\n    break;\n  }\n}\n";
  }
  OS << "} // namespace frame\n} // namespace cleave\n";
}
} // namespace

std::string cppStringLiteral(llvm::StringRef S) {
  std::string Out = "\"";
  for (char C : S) {
    if (C == '"' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out + "\"";
}

std::string forMarker(const SourcePos &At, llvm::StringRef What) {
  if (!At.valid() || At.File.find('\n') != std::string::npos)
    return "";
  return "// cleave-for: " + At.File + ":" + std::to_string(At.Line) + ":" +
         std::to_string(At.Column) + ": " + What.str() + "\n";
}


std::string generateGlue(ASTContext &Ctx,
                         llvm::ArrayRef<const CXXRecordDecl *> Records,
                         llvm::ArrayRef<GlueEntry> Entries,
                         llvm::ArrayRef<GlueState> States) {
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  OS << "// ===== Generated by cleave: do not edit. =====\n";

  {
    // A checker of its own answers which classes are quiet; the enums come
    // from the context's first checker, the one that checked the unit.
    SerializableChecker Types(Ctx);
    generateCodecs(OS, Ctx, Records, Types);
  }

  for (const GlueEntry &E : Entries) {
    const FunctionNode &F = *E.Node;
    OS << "\n" << forMarker(F.Pos, "the handler of entry '" + F.Name + "'");
    OS << "int " << F.HandlerSymbol
       << "(const cleave_call_v1 *cleave_call, cleave_reply_v1 *cleave_reply) "
          "noexcept {\n"
       << "  ::cleave::rt::Invocation cleave_inv(cleave_call, cleave_reply, "
       << cppStringLiteral(F.Name) << ");\n"
       << "  if (!cleave_inv.parseArgs())\n    return cleave_inv.finish();\n";
    // The parameters are made once the state is loaded (argInRun).
    OS << "  cleave_inv.run([&]() -> decltype(auto) {\n";
    for (size_t I = 0; I < F.Params.size(); ++I)
      OS << "    " << F.Params[I].CodeType << " cleave_a" << I << "{};\n"
         << "    cleave_inv.argInRun(" << cppStringLiteral(F.Params[I].Name)
         << ", cleave_a" << I << ");\n";
    OS << "    return " << E.Callee << "(";
    for (size_t I = 0; I < F.Params.size(); ++I)
      OS << (I ? ", " : "") << "::std::move(cleave_a" << I << ")";
    OS << ");\n  });\n  return cleave_inv.finish();\n}\n";
  }

  // Local returns the calling thread's instance of the thread_local
  // variable, which the runtime fills before a function runs.
  for (const GlueState &S : States)
    OS << "\n"
       << forMarker(S.Var->Pos, "the state operations of '" + S.Var->Name + "'")
       << "extern const ::cleave::rt::StateOps " << S.Var->OpsSymbol << ";\n"
       << "const ::cleave::rt::StateOps " << S.Var->OpsSymbol
       << " =\n    ::cleave::rt::makeStateOps<" << S.CodeType << ">(\n"
       << "        " << cppStringLiteral(S.Var->Name)
       << ", []() -> void * {\n          return const_cast<" << S.CodeType
       << " *>(::std::addressof(::" << S.Var->Name << "));\n        });\n";
  return Text;
}

} // namespace cleave
