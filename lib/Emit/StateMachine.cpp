//===- StateMachine.cpp - Cut a function into resumable steps ------------===//
//
// Orchestrates the parts (MachineInternal.h) and writes the machine around
// the rewritten body: the resume state, the parameters, the body with
// #line back to the user's source, the C ABI entry point, and for an entry
// the adapters between JSON and frames.
//
//===----------------------------------------------------------------------===//

#include "MachineInternal.h"

#include "cleave/Emit/Glue.h"
#include "cleave/Frontend/Names.h"

#include "clang/AST/ParentMapContext.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace cleave {
namespace machine {

MachineBuilder::MachineBuilder(MachineContext &MC, const FunctionDecl *FD,
                               FunctionNode &N)
    : MC(MC), Ctx(MC.Ctx), SM(Ctx.getSourceManager()), LO(Ctx.getLangOpts()),
      FD(FD), Node(N), Body(FD->getBody()) {}

// --- Locations and text -------------------------------------------------------

SourceLocation MachineBuilder::endOfToken(SourceLocation L) const {
  return Lexer::getLocForEndOfToken(SM.getFileLoc(L), 0, SM, LO);
}

bool MachineBuilder::tokenIs(SourceLocation L, llvm::StringRef Spelling) const {
  L = SM.getFileLoc(L);
  SourceLocation E = endOfToken(L);
  if (E.isInvalid())
    return false;
  return Lexer::getSourceText(CharSourceRange::getCharRange(L, E), SM, LO) ==
         Spelling;
}

SourceLocation MachineBuilder::afterStmt(const Stmt *S) const {
  // A statement that ends with a statement of its own ends where that does.
  if (const auto *If = dyn_cast<IfStmt>(S))
    return afterStmt(If->getElse() ? If->getElse() : If->getThen());
  if (const auto *W = dyn_cast<WhileStmt>(S))
    return afterStmt(W->getBody());
  if (const auto *F = dyn_cast<ForStmt>(S))
    return afterStmt(F->getBody());
  if (const auto *R = dyn_cast<CXXForRangeStmt>(S))
    return afterStmt(R->getBody());
  if (const auto *Sw = dyn_cast<SwitchStmt>(S))
    return afterStmt(Sw->getBody());
  if (const auto *L = dyn_cast<LabelStmt>(S))
    return afterStmt(L->getSubStmt());
  if (const auto *C = dyn_cast<SwitchCase>(S))
    return afterStmt(C->getSubStmt());
  SourceLocation End = SM.getFileLoc(S->getEndLoc());
  if (tokenIs(End, ";") || (isa<CompoundStmt>(S) && tokenIs(End, "}")))
    return endOfToken(End);
  // An expression or declaration: its semicolon follows its last token.
  SourceLocation After = Lexer::findLocationAfterToken(
      End, tok::semi, SM, LO, /*SkipTrailingWhitespaceAndNewLine=*/false);
  return After.isValid() ? After : endOfToken(End);
}

std::string MachineBuilder::text(SourceRange R) const {
  // A character range: a token range whose last token was replaced would be
  // cut at the replacement's old length.
  return Rw.getRewrittenText(CharSourceRange::getCharRange(
      SM.getFileLoc(R.getBegin()), endOfToken(R.getEnd())));
}

std::string MachineBuilder::text(SourceLocation B, SourceLocation E) const {
  return Rw.getRewrittenText(CharSourceRange::getCharRange(B, E));
}

SourceRange MachineBuilder::fileRange(const Stmt *S) const {
  auto [It, New] = FileRanges.try_emplace(S);
  if (New)
    It->second = SourceRange(SM.getFileLoc(S->getBeginLoc()),
                             SM.getFileLoc(S->getEndLoc()));
  return It->second;
}

bool MachineBuilder::encloses(const Stmt *Outer, const Stmt *Inner) const {
  if (!Outer || !Inner)
    return false;
  return encloses(fileRange(Outer), fileRange(Inner).getBegin());
}

bool MachineBuilder::encloses(SourceRange Outer, SourceLocation At) const {
  SourceLocation B = SM.getFileLoc(Outer.getBegin());
  SourceLocation E = SM.getFileLoc(Outer.getEnd());
  At = SM.getFileLoc(At);
  return !SM.isBeforeInTranslationUnit(At, B) &&
         !SM.isBeforeInTranslationUnit(E, At);
}

bool MachineBuilder::inMacro(const Stmt *S) const {
  return S->getBeginLoc().isMacroID() || S->getEndLoc().isMacroID();
}

unsigned MachineBuilder::offsetOf(SourceLocation L) const {
  return SM.getFileOffset(SM.getFileLoc(L));
}

std::string MachineBuilder::typeCode(QualType T) const {
  return codeTypeName(T.getNonReferenceType().getUnqualifiedType(), Ctx);
}

std::string MachineBuilder::typeDisplay(QualType T) const {
  return displayTypeName(T.getNonReferenceType().getUnqualifiedType(), Ctx);
}

const Stmt *MachineBuilder::parentOf(const Stmt *S) const {
  DynTypedNodeList Ps = Ctx.getParents(*S);
  while (!Ps.empty()) {
    if (const auto *P = Ps[0].get<Stmt>())
      return P;
    if (const auto *D = Ps[0].get<Decl>()) {
      if (isa<FunctionDecl>(D) || isa<BlockDecl>(D))
        return nullptr;
      Ps = Ctx.getParents(*D);
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

const Stmt *MachineBuilder::unlabeled(const Stmt *S) {
  while (true) {
    if (const auto *L = dyn_cast<LabelStmt>(S))
      S = L->getSubStmt();
    else if (const auto *C = dyn_cast<SwitchCase>(S))
      S = C->getSubStmt();
    else
      return S;
  }
}

const Stmt *MachineBuilder::parentOfDecl(const Decl *D) const {
  DynTypedNodeList Ps = Ctx.getParents(*D);
  return Ps.empty() ? nullptr : Ps[0].get<Stmt>();
}

// --- The machine ----------------------------------------------------------------

namespace {

std::string layoutTable(const std::vector<Stop> &Stops) {
  std::string S = "0u";
  for (const Stop &St : Stops)
    S += ", " + St.Layout;
  return S;
}

} // namespace

std::string MachineBuilder::assemble() {
  std::string S;
  llvm::raw_string_ostream OS(S);
  // The namespaces around the function, so that its body finds its names.
  std::vector<const NamespaceDecl *> NS;
  for (const DeclContext *DC = FD->getDeclContext(); DC && !DC->isTranslationUnit();
       DC = DC->getParent())
    if (const auto *N = dyn_cast<NamespaceDecl>(DC))
      NS.insert(NS.begin(), N);
  std::string Qual = "::";
  for (const NamespaceDecl *N : NS) {
    OS << (N->isInline() ? "inline " : "") << "namespace "
       << (N->isAnonymousNamespace() ? "" : N->getName().str() + " ") << "{\n";
    if (!N->isAnonymousNamespace())
      Qual += N->getName().str() + "::";
  }
  // A member function's machine is a member function of its class too
  // (static for a static one), declared at the end of the class in the
  // unit's rewritten copy: its body finds the class's names, reaches its
  // private members, and `this` is the object, as in the original.
  std::string Owner;
  for (const DeclContext *DC = Class; DC && isa<CXXRecordDecl>(DC);
       DC = DC->getParent())
    Owner = cast<CXXRecordDecl>(DC)->getName().str() + "::" + Owner;
  bool Const = HasSelf && cast<CXXMethodDecl>(FD)->isConst();
  std::string SelfType = Class ? typeCode(Ctx.getRecordType(Class)) : "";
  std::string Prologue =
      "  static const ::std::uint32_t cleave_layouts[] = {" +
      layoutTable(Stops) + "};\n" +
      "  ::cleave::rt::Resume cleave_r(cleave_s, cleave_layouts, " +
      std::to_string(Stops.size()) + "u);\n" +
      "  if (!cleave_r.error().empty())\n" +
      "    return cleave_s.cannotResume(cleave_r.error());\n";
  std::string SelfParams = "(::cleave::rt::Step &cleave_s, "
                           "::cleave::rt::Resume &cleave_r, "
                           "::cleave::rt::Local<" +
                           SelfType + "> &cleave_self)" +
                           (Const ? " const" : "");
  // On the class's last line, so that the lines after it (and __LINE__)
  // stay what they are in the source.
  if (HasSelf) {
    MC.UnitInsertions.push_back(
        {SM.getFileLoc(Class->getBraceRange().getEnd()),
         " public: void " + MachineFn + SelfParams + "; "});
    OS << "void " << Owner << MachineFn << SelfParams << " {\n";
  } else if (Class) {
    MC.UnitInsertions.push_back(
        {SM.getFileLoc(Class->getBraceRange().getEnd()),
         " public: static void " + MachineFn +
             "(::cleave::rt::Step &cleave_s); "});
    OS << "void " << Owner << MachineFn << "(::cleave::rt::Step &cleave_s) {\n"
       << Prologue;
  } else {
    OS << "static void " << MachineFn << "(::cleave::rt::Step &cleave_s) {\n"
       << Prologue;
  }
  auto SlotOf = [&](const ParmVarDecl *P) {
    auto It = CarrierOf.find(P);
    return It == CarrierOf.end()
               ? "cleave_p" + std::to_string(P->getFunctionScopeIndex())
               : Carriers[It->second].SlotName;
  };
  for (const ParmVarDecl *P : FD->parameters()) {
    auto It = CarrierOf.find(P);
    std::string Slot = SlotOf(P);
    std::string Lists =
        It == CarrierOf.end() ? "{}, {}" : restoreLists(Carriers[It->second]);
    std::string Name = P->getName().empty()
                           ? "cleave_unnamed" +
                                 std::to_string(P->getFunctionScopeIndex())
                           : P->getName().str();
    QualType T = P->getType();
    bool Const = T.getNonReferenceType().getCanonicalType().isConstQualified();
    std::string Type = typeCode(T);
    // A reference parameter names the caller's object, which the function
    // does not destroy.
    OS << "  ::cleave::rt::Local<" << Type << "> " << Slot
       << (T->isReferenceType() ? "(cleave_r, true);\n  " : "(cleave_r);\n  ") << (Const ? "const " : "") << Type << " &" << Name
       << " = " << Slot << (Node.IsEntry ? ".param(" : ".argument(") << Lists
       << ");\n";
  }
  // In-out parameters (the object of a non-const member function first) go
  // back to the caller when the function ends.
  std::string Outs;
  if (HasSelf && !cast<CXXMethodDecl>(FD)->isConst())
    Outs = "cleave_self.get()";
  for (const ParmVarDecl *P : FD->parameters())
    if (isInOut(P))
      Outs += (Outs.empty() ? "" : ", ") + SlotOf(P) + ".get()";
  if (!Outs.empty())
    OS << "  ::cleave::rt::OutParams cleave_outs(cleave_r, [&] { "
          "cleave_s.keepOuts("
       << Outs << "); });\n";
  OS << "  (void)cleave_r;\n";
  PresumedLoc PL = SM.getPresumedLoc(SM.getFileLoc(Body->getBeginLoc()));
  if (PL.isValid())
    OS << "#line " << PL.getLine() << " " << cppStringLiteral(PL.getFilename())
       << "\n";
  OS << text(Body->getSourceRange()) << "\n}\n";
  for (size_t I = 0; I < NS.size(); ++I)
    OS << "}\n";
  OS << "int " << Symbol
     << "(const cleave_step_call_v1 *cleave_call, cleave_step_reply_v1 *cleave_reply) {\n"
     << "  ::cleave::rt::Step cleave_step(cleave_call, cleave_reply, " << cppStringLiteral(Node.MachineName)
     << ");\n";
  if (!HasSelf) {
    OS << "  return cleave_step.run([&] { " << Qual << Owner << MachineFn
       << "(cleave_step); });\n}\n";
    return S;
  }
  // The object first: restored at every resume point (or given back by the
  // callee it was passed to), and ended without its destructor, since it
  // is the caller's. Its member function runs the rest.
  std::set<unsigned> At;
  for (const Stop &X : Stops)
    if (!SelfFromCallee.count(X.Index))
      At.insert(X.Index);
  std::string Back;
  for (const auto &[K, I] : SelfFromCallee)
    Back += (Back.empty() ? "{" : ", {") + std::to_string(K) + "u, " +
            std::to_string(I) + "u}";
  OS << "  return cleave_step.run([&] {\n  ::cleave::rt::Step &cleave_s = cleave_step;\n"
     << Prologue << "  ::cleave::rt::Local<" << SelfType
     << "> cleave_self(cleave_r, true);\n"
     << "  cleave_self.argument(" << carrierList(At) << ", {}"
     << (Back.empty() ? "" : ", {" + Back + "}") << ")." << MachineFn
     << "(cleave_s, cleave_r, cleave_self);\n  });\n}\n";
  return S;
}

std::string MachineBuilder::oneStepMachine() {
  // The parameters are built from the arguments frame in place, as in a
  // machine with steps: no default constructor is needed.
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << "int " << Symbol
     << "(const cleave_step_call_v1 *cleave_call, cleave_step_reply_v1 *cleave_reply) {\n"
     << "  ::cleave::rt::Step cleave_step(cleave_call, cleave_reply, " << cppStringLiteral(Node.MachineName)
     << ");\n  return cleave_step.run([&] {\n"
     << "    static const ::std::uint32_t cleave_layouts[] = {0u};\n"
     << "    ::cleave::rt::Resume cleave_r(cleave_step, cleave_layouts, 0u);\n"
     << "    if (!cleave_r.error().empty())\n"
     << "      return cleave_step.cannotResume(cleave_r.error());\n";
  std::string Params, Outs;
  unsigned I = 0;
  for (const ParmVarDecl *P : FD->parameters()) {
    std::string N = "cleave_a" + std::to_string(I++);
    std::string T = typeCode(P->getType());
    OS << "    ::cleave::rt::Local<" << T << "> " << N << "_slot"
       << (P->getType()->isReferenceType() ? "(cleave_r, true);\n    "
                                           : "(cleave_r);\n    ")
       << T << " &" << N << " = " << N << "_slot"
       << (Node.IsEntry ? ".param({}, {});\n" : ".argument({}, {});\n");
    // A parameter taken by value is moved into: the frame already made it.
    Params += (Params.empty() ? "" : ", ") +
              (P->getType()->isReferenceType() ? N : "::std::move(" + N + ")");
    if (isInOut(P))
      Outs += (Outs.empty() ? "" : ", ") + (N + "_slot.get()");
  }
  // In-out parameters go back to the caller, also when the function throws.
  if (!Outs.empty())
    OS << "    ::cleave::rt::OutParams cleave_outs(cleave_r, [&] { "
          "cleave_step.keepOuts("
       << Outs << "); });\n";
  std::string Callee = "::" + qualifiedName(FD);
  if (FD->getReturnType()->isVoidType())
    OS << "    " << Callee << "(" << Params << ");\n";
  else
    OS << "    cleave_step.finish<" << ReturnCode << ">(" << Callee << "(" << Params
       << "));\n";
  OS << "  });\n}\n";
  return S;
}

std::string MachineBuilder::entryAdapters() {
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << "int " << Node.ArgsSymbol
     << "(const cleave_call_v1 *cleave_call, cleave_reply_v1 *cleave_reply) {\n"
     << "  ::cleave::rt::Invocation cleave_inv(cleave_call, cleave_reply, "
     << cppStringLiteral(Node.Name) << ");\n"
     << "  if (!cleave_inv.parseArgs())\n    return cleave_inv.finish();\n";
  std::string Params, Outs;
  unsigned I = 0;
  for (const ParmVarDecl *P : FD->parameters()) {
    std::string N = "cleave_a" + std::to_string(I++);
    OS << "  " << typeCode(P->getType()) << " " << N << "{};\n"
       << "  if (!cleave_inv.arg(" << cppStringLiteral(P->getName()) << ", " << N
       << "))\n    return cleave_inv.finish();\n";
    Params += ", " + N;
  }
  OS << "  ::std::string cleave_frame;\n  ::cleave::frame::encodeFrame(cleave_frame" << Params
     << ");\n  cleave_inv.reply(200, cleave_frame);\n  return cleave_inv.finish();\n}\n";
  OS << "int cleave_value_"
     << Node.ArgsSymbol.substr(std::string("cleave_args_").size())
     << "(const char *cleave_value, ::std::size_t cleave_len, cleave_reply_v1 *cleave_reply) {\n"
     << "  return ::cleave::rt::valueToJson<" << ReturnCode
     << ">(cleave_value, cleave_len, cleave_reply);\n}\n";
  return S;
}

std::optional<SerializeProblem>
MachineBuilder::parameterProblem(const FunctionDecl *F, QualType PT) {
  QualType T = PT.getNonReferenceType().getUnqualifiedType();
  bool Entry = false;
  for (const FunctionDecl *R : F->redecls())
    for (const auto *A : R->specific_attrs<AnnotateAttr>())
      Entry |= A->getAnnotation() == "cleave.entry";
  if (Entry)
    return MC.Types.check(T);
  if (auto P = MC.Types.checkFrame(T))
    return P;
  if (!MC.Types.check(T) || Ctx.getAsArrayType(T) || MC.Types.isResurrectable(T))
    return std::nullopt;
  // Neither value-initialized then decoded, nor rebuilt member by member.
  SerializeProblem P;
  P.Reason = "'" + typeDisplay(T) +
             "' has no default constructor, and rebuilding it from the "
             "frame would run constructors or a destructor of its members "
             "again";
  if (const auto *RD = T->getAsCXXRecordDecl()) {
    P.NoteLoc = RD->getLocation();
    P.Note = "declared here";
  }
  return P;
}

bool MachineBuilder::checkSignature() {
  if (FD->isVariadic()) {
    MC.Report.error(FD->getLocation(),
                    "'" + Node.Name +
                        "' would run as steps, which needs a function "
                        "without variadic parameters");
    return false;
  }
  if (const auto *MD = dyn_cast<CXXMethodDecl>(FD)) {
    // Its machine is a static member function added to the class in the
    // unit's rewritten copy.
    const CXXRecordDecl *RD = MD->getParent();
    std::string Why;
    if (isa<CXXConstructorDecl>(MD) || isa<CXXDestructorDecl>(MD) ||
        isa<CXXConversionDecl>(MD) || MD->isOverloadedOperator())
      Why = "a constructor, destructor, conversion or operator cannot run as "
            "steps; move the code that reaches the boundary into a member "
            "function of its own";
    else if (RD->getDescribedClassTemplate() ||
             isa<ClassTemplateSpecializationDecl>(RD) || RD->isDependentContext())
      Why = "it is a member of a class template";
    else if (RD->isLocalClass() || RD->isLambda() || !RD->getIdentifier())
      Why = "its class is local or unnamed";
    if (!Why.empty()) {
      MC.Report.error(FD->getLocation(),
                      "'" + Node.Name + "' would run as steps, but " + Why);
      MC.Report.note(RD->getLocation(), "the class is defined here");
      return false;
    }
    Class = RD;
    HasSelf = !MD->isStatic();
    if (HasSelf)
      if (auto Pr = MC.Types.checkFrame(Ctx.getRecordType(RD))) {
        MC.Report.error(FD->getLocation(),
                        "'" + Node.Name + "' would run as steps, so its "
                        "object crosses a boundary, but it cannot: " +
                            Pr->Reason);
        if (Pr->NoteLoc.isValid())
          MC.Report.note(Pr->NoteLoc, Pr->Note);
        return false;
      }
  }
  for (const ParmVarDecl *P : FD->parameters()) {
    if (auto Pr = parameterProblem(FD, P->getType())) {
      MC.Report.error(P->getLocation(),
                      "parameter '" + P->getNameAsString() + "' of '" +
                          Node.Name + "' cannot cross a boundary: " + Pr->Reason);
      if (Pr->NoteLoc.isValid())
        MC.Report.note(Pr->NoteLoc, Pr->Note);
      return false;
    }
  }
  QualType RT = FD->getReturnType();
  if (!RT->isVoidType())
    if (auto Pr = MC.Types.check(RT.getNonReferenceType().getUnqualifiedType())) {
      MC.Report.error(FD->getLocation(), "the value of '" + Node.Name +
                                             "' cannot cross a boundary: " +
                                             Pr->Reason);
      return false;
    }
  return true;
}

void MachineBuilder::recordSteps() {
  for (const Stop &S : Stops) {
    Node.Steps.push_back(MC.PosOf(S.Call->getBeginLoc()));
    StepEdge E;
    E.From = From[S.Index - 1];
    E.Callee = MC.Plan.Machines.count(S.Plan->Callee)
                   ? MC.Plan.Machines.at(S.Plan->Callee)
                   : qualifiedName(S.Callee);
    E.Placement = suspensionKindName(S.Plan->Kind);
    E.Resume = S.Index;
    E.Pos = MC.PosOf(S.Call->getBeginLoc());
    for (const FrameItem &I : Frames[S.Index - 1])
      E.Carried.push_back({I.Display, I.TypeName,
                           !I.Type.isNull() ? estimateBytes(I.Type)
                           : I.Bytes       ? I.Bytes
                                           : 8u});
    for (const Carrier &C : Carriers)
      if (C.How == Carrier::Remat && C.Live.count(S.Index) &&
          !C.Reason.empty())
        E.Rebuilt.push_back({C.Var->getNameAsString(),
                             typeDisplay(C.Var->getType()), C.Reason});
    Node.Edges.push_back(std::move(E));
  }
}

bool MachineBuilder::run(std::string &Out) {
  Node.MachineName = MC.Plan.Machines.at(Node.USR);
  Symbol = machineSymbol(Node.MachineName);
  Node.MachineSymbol = Symbol;
  MachineFn = "cleave_machine_" + Symbol.substr(std::string("cleave_step_").size());
  QualType RT = FD->getReturnType();
  ReturnCode = RT->isVoidType() ? "void" : typeCode(RT);
  Node.ValueCode = ReturnCode;
  Node.Steps.push_back(MC.PosOf(Body->getBeginLoc()));
  if (!checkSignature())
    return false;

  bool Split = MC.Plan.Sites.count(Node.USR);
  // A parameter taken by value whose type has constructors or a destructor
  // of its own: the machine is a copy of the body, where the parameter is
  // the object the frame made. Calling the function would move it into
  // another one, running constructors the plain program does not run.
  bool Copy = Split || Class ||
              std::any_of(FD->param_begin(), FD->param_end(),
                                   [&](const ParmVarDecl *P) {
                                     return !P->getType()->isReferenceType() &&
                                            !isQuietType(P->getType());
                                   });
  if (Copy) {
    if (!findStops())
      return false;
    Split = !Stops.empty();
  }
  if (Split || Copy) {
    if (!checkGotos())
      return false;
    markPaths();
    if (!checkHandlers())
      return false;
    for (Stop &S : Stops) {
      QualType CRT = S.Callee->getReturnType();
      S.ResultCode = CRT->isVoidType() ? "void" : typeCode(CRT);
      if (S.Plan->Kind == SuspensionKind::FanOut && !CRT->isVoidType()) {
        S.ElemCode = S.ResultCode;
        S.ResultCode = "::std::vector<" + S.ResultCode + ">";
      }
    }
    if (!findCarriers() || !bindInOut() || !computeNeeded() || !decide())
      return false;
    unsigned Local = 0;
    for (Carrier &C : Carriers)
      C.SlotName = C.Param ? "cleave_p" + std::to_string(cast<ParmVarDecl>(C.Var)->getFunctionScopeIndex())
                           : "cleave_l" + std::to_string(++Local);
    planLoops();
    if (Failed)
      return false;
    layoutFrames();
    computeEdges();
    if (!rewriteBody())
      return false;
    Out += forMarker(Node.Pos, "the steps of '" + Node.Name + "'");
    Out += assemble();
    recordSteps();
  } else {
    Out += forMarker(Node.Pos, "the step of '" + Node.Name + "'");
    Out += oneStepMachine();
  }
  if (Node.IsEntry) {
    Node.ArgsSymbol =
        "cleave_args_" + Symbol.substr(std::string("cleave_step_").size());
    Out +=
        forMarker(Node.Pos, "the step adapters of entry '" + Node.Name + "'");
    Out += entryAdapters();
  }
  return true;
}

} // namespace machine

bool emitMachine(MachineContext &MC, const FunctionDecl *FD, FunctionNode &Node,
                 std::string &Out) {
  return machine::MachineBuilder(MC, FD, Node).run(Out);
}

} // namespace cleave
