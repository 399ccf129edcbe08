//===- FrameLayout.cpp - What each continuation frame holds --------------===//
//
// A continuation frame holds, after its layout fingerprint, the values a
// resumed step restores, in the order it restores them: the order in which
// it walks down to its resume point (parameters, then declarations, range
// positions and earlier calls' values as they appear in the source). The
// step that stops writes them in that order, so the frame needs no names.
//
//===----------------------------------------------------------------------===//

#include "MachineInternal.h"

#include "cleave/Analysis/Serializable.h"

#include "clang/Analysis/AnalysisDeclContext.h"
#include "clang/Analysis/CFG.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace clang;

namespace cleave {
namespace machine {

namespace {

/// FNV-1a over \p Text: the layout fingerprint of a continuation frame.
uint32_t fingerprint(llvm::StringRef Text) {
  uint32_t H = 2166136261u;
  for (unsigned char C : Text) {
    H ^= C;
    H *= 16777619u;
  }
  return H;
}

} // namespace

void MachineBuilder::layoutFrames() {
  // The stops of each statement, in order.
  llvm::DenseMap<const Stmt *, std::vector<unsigned>> StopsOf;
  for (const Stop &S : Stops)
    StopsOf[S.Anchor].push_back(S.Index);

  // Which later stops of the same statement carry each call's value.
  PendingAt.assign(Stops.size(), {});
  for (const Stop &J : Stops) {
    if (J.ResultCode == "void")
      continue;
    // Consumed by the arguments of a call that stopped in between, or by
    // a decision taken before K (docs/splitting.md).
    inStopArgs(J.Call, J.Index); // fills ArgOf[J.Call]
    unsigned Until = firstArgStop(ArgOf.find(J.Call)->second, J.Anchor);
    for (unsigned K : StopsOf[J.Anchor]) {
      if (K <= J.Index || K >= Until)
        continue;
      if (!decidedBefore(J, Stops[K - 1]))
        PendingAt[J.Index - 1].append(K);
    }
  }
  // Per stop: where its call ends (the order of its value in a frame), its
  // value's size, and a hash of the value types of the stops up to it, for
  // the layout of a run of values (runTypeCode).
  std::vector<unsigned> Key(Stops.size()), Bytes(Stops.size());
  std::vector<bool> Guarded(Stops.size());
  std::vector<uint64_t> TypeHash(Stops.size() + 1, 0);
  for (const Stop &J : Stops) {
    Key[J.Index - 1] = keyOf(J);
    Guarded[J.Index - 1] = !guardOf(J.Anchor, J.Call).empty();
    Bytes[J.Index - 1] = J.Plan->Kind == SuspensionKind::FanOut
                             ? 8u
                             : estimateBytes(J.Callee->getReturnType());
    TypeHash[J.Index] = TypeHash[J.Index - 1] * 1099511628211ull +
                        fingerprint(J.ResultCode);
  }
  std::vector<uint64_t> Power(Stops.size() + 1, 1);
  for (size_t I = 1; I < Power.size(); ++I)
    Power[I] = Power[I - 1] * 1099511628211ull;

  // Decisions taken before a later stop of the statement travel with it,
  // unless the arguments of a call that stopped in between used them up.
  for (Decision &D : Decisions) {
    D.FlagAt.clear();
    if (const auto *B = dyn_cast<BinaryOperator>(D.Op); B && B->isCommaOp())
      continue; // no flag: the right operand always runs
    for (const Stop &K : Stops) {
      if (K.Anchor != D.Anchor || encloses(D.Op, K.Call) ||
          !SM.isBeforeInTranslationUnit(SM.getFileLoc(D.Op->getEndLoc()),
                                        SM.getFileLoc(K.Call->getBeginLoc())))
        continue;
      if (!inStopArgs(D.Op, K.Index))
        D.FlagAt.insert(K.Index);
    }
  }

  // What a statement's stops and decisions restore comes just before the
  // statement, after what it declares in an if's init-statement.
  auto StatementOrder = [&](const Stmt *Anchor) {
    SourceLocation At = Anchor->getBeginLoc();
    if (const auto *If = dyn_cast<IfStmt>(Anchor);
        If && (If->getInit() || If->getConditionVariable()))
      At = If->getCond()->getBeginLoc();
    return (1000 + offsetOf(At)) * 4 + 3;
  };

  // The value of the call of \p J, as a frame item of its own.
  auto PendingItem = [&](const Stop &J) {
    FrameItem I;
    I.Save = "cleave_r.pending<" + J.ResultCode + ">(" +
             std::to_string(J.Index) + "u)";
    I.Display = J.Callee->getNameAsString() + "()";
    I.TypeName = J.Plan->Kind == SuspensionKind::FanOut
                     ? "std::vector<" +
                           typeDisplay(J.Callee->getReturnType()) + ">"
                     : typeDisplay(J.Callee->getReturnType());
    I.TypeCode = J.ResultCode;
    if (J.Plan->Kind != SuspensionKind::FanOut)
      I.Type = J.Callee->getReturnType();
    I.Order = StatementOrder(J.Anchor);
    I.Sub = keyOf(J);
    I.PendingOf = I.PendingTo = J.Index;
    I.Bytes = Bytes[J.Index - 1];
    // In an operand that runs only sometimes: whether it ran travels too.
    if (!guardOf(J.Anchor, J.Call).empty()) {
      I.Save = "cleave_r.pendingIf<" + J.ResultCode + ">(" +
               std::to_string(J.Index) + "u)";
      I.TypeName = "std::optional<" + I.TypeName + ">";
      I.TypeCode = "::std::optional<" + J.ResultCode + ">";
      I.Type = QualType();
      I.PendingOf = I.PendingTo = 0;
    }
    return I;
  };
  // Runs of the values of three calls or more: one item each; shorter
  // ones are listed value by value, for people.
  auto FinishRuns = [&](std::vector<FrameItem> &F) {
    std::vector<FrameItem> Out;
    for (FrameItem &I : F) {
      if (I.PendingTo <= I.PendingOf) {
        Out.push_back(std::move(I));
        continue;
      }
      if (I.PendingTo == I.PendingOf + 1) {
        Out.push_back(PendingItem(Stops[I.PendingOf - 1]));
        Out.push_back(PendingItem(Stops[I.PendingTo - 1]));
        continue;
      }
      unsigned Lo = I.PendingOf, Hi = I.PendingTo;
      I.Save = "cleave_r.pendingRun(" + std::to_string(Lo) + "u, " +
               std::to_string(Hi) + "u)";
      I.Display = "the values of the calls of steps " + std::to_string(Lo) +
                  " to " + std::to_string(Hi);
      I.TypeName = std::to_string(Hi - Lo + 1) + " values";
      char Hex[24];
      snprintf(Hex, sizeof(Hex), "%016llx",
               static_cast<unsigned long long>(
                   TypeHash[Hi] - TypeHash[Lo - 1] * Power[Hi - Lo + 1]));
      I.TypeCode = "run:" + std::to_string(Hi - Lo + 1) + ":" + Hex;
      I.Type = QualType();
      I.Bytes = 0;
      for (unsigned K = Lo; K <= Hi; ++K)
        I.Bytes += Bytes[K - 1];
      Out.push_back(std::move(I));
    }
    F = std::move(Out);
  };
  auto ByOrder = [](const FrameItem &A, const FrameItem &B) {
    return A.Order != B.Order ? A.Order < B.Order : A.Sub < B.Sub;
  };

  Frames.assign(Stops.size(), {});
  for (const Stop &S : Stops) {
    std::vector<FrameItem> &F = Frames[S.Index - 1];
    // The object of a member function, restored before the parameters
    // (unless it comes back from the callee it was passed to).
    if (HasSelf && !SelfFromCallee.count(S.Index)) {
      FrameItem I;
      I.Save = "cleave_self.get()";
      I.Display = "*this";
      I.Type = Ctx.getRecordType(Class);
      I.TypeName = typeDisplay(I.Type);
      I.TypeCode = typeCode(I.Type);
      F.push_back(I);
    }
    for (const Carrier &C : Carriers) {
      if (C.How != Carrier::Slot || !C.Live.count(S.Index))
        continue;
      FrameItem I;
      I.Save = C.SlotName + ".get()";
      const VarDecl *V = C.Var;
      if (const auto *DD = dyn_cast<DecompositionDecl>(V)) {
        I.Display = "[";
        for (const BindingDecl *B : DD->bindings())
          I.Display += (I.Display.size() > 1 ? ", " : "") + B->getNameAsString();
        I.Display += "]";
      } else {
        I.Display = V->getNameAsString();
      }
      QualType T = V->getType().getNonReferenceType().getUnqualifiedType();
      I.Type = T;
      I.TypeName = typeDisplay(T);
      I.TypeCode = typeCode(T);
      I.Order = C.Order * 4;
      F.push_back(I);
    }
    for (const Loop &L : Loops) {
      if (S.Index < L.Lo || S.Index > L.Hi)
        continue;
      std::string Var = L.For->getLoopVariable()->getNameAsString();
      if (const auto *DD = dyn_cast<DecompositionDecl>(L.For->getLoopVariable())) {
        Var = "[";
        for (const BindingDecl *B : DD->bindings())
          Var += (Var.size() > 1 ? ", " : "") + B->getNameAsString();
        Var += "]";
      }
      if (L.Temporary) {
        FrameItem I;
        I.Save = L.TemporarySlot + ".get()";
        I.Display = Var + ".range";
        QualType T = L.For->getRangeInit()->getType().getNonReferenceType()
                         .getUnqualifiedType();
        I.Type = T;
        I.TypeName = typeDisplay(T);
        I.TypeCode = typeCode(T);
        I.Order = L.Order * 4 + 1;
        F.push_back(I);
      }
      FrameItem I;
      I.Save = L.Cursor + ".position()";
      I.Display = Var + "." + L.Position;
      I.TypeName = L.Position == "index" ? "std::size_t"
                   : L.Position == "key" ? "key"
                                         : "keys";
      I.TypeCode = "position:" + L.Position + ":" +
                   typeCode(L.For->getRangeInit()->getType()
                                .getNonReferenceType()
                                .getUnqualifiedType());
      if (L.Position == "index")
        I.Type = Ctx.getSizeType();
      I.Order = L.Order * 4 + 2;
      F.push_back(I);
    }
    // The exception of each handler around the stop, read where the step
    // enters its try block and throws it again.
    for (const Handler &H : Handlers) {
      if (!encloses(H.Catch, S.Call))
        continue;
      FrameItem I;
      I.Save = "cleave_r.handled(" + std::to_string(H.Id) + "u)";
      PresumedLoc P = SM.getPresumedLoc(SM.getFileLoc(H.Catch->getBeginLoc()));
      I.Display = "exception caught at " + std::to_string(P.getLine()) + ":" +
                  std::to_string(P.getColumn());
      I.TypeName = "exception";
      I.TypeCode = "exception";
      I.Order = (1000 + offsetOf(H.Try->getBeginLoc())) * 4 + 1;
      F.push_back(I);
    }
    // The values of earlier calls of the statement. Consecutive calls whose
    // values are saved as they are form one run: a statement of N calls
    // then has frames of a few items each, not N.
    for (unsigned K : StopsOf[S.Anchor]) {
      if (K >= S.Index)
        break;
      if (!PendingAt[K - 1].count(S.Index))
        continue;
      const Stop &J = Stops[K - 1];
      if (!Guarded[K - 1] && !F.empty() &&
          F.back().PendingOf && F.back().PendingTo + 1 == K &&
          Key[K - 1] > Key[K - 2]) {
        F.back().PendingTo = K;
        continue;
      }
      F.push_back(PendingItem(J));
    }
    for (const Decision &D : Decisions) {
      if (!D.FlagAt.count(S.Index))
        continue;
      FrameItem I;
      I.Save = "cleave_r.decided(" + std::to_string(D.Id) + "u)";
      PresumedLoc P = SM.getPresumedLoc(SM.getFileLoc(D.Op->getBeginLoc()));
      const auto *B = dyn_cast<BinaryOperator>(D.Op);
      I.Display = std::string(B ? B->getOpcodeStr() : "?:") + " at " +
                  std::to_string(P.getLine()) + ":" +
                  std::to_string(P.getColumn());
      I.TypeName = "bool";
      I.TypeCode = "bool";
      I.Type = Ctx.BoolTy;
      I.Order = StatementOrder(D.Anchor);
      I.Sub = keyOf(D);
      F.push_back(I);
    }
    std::stable_sort(F.begin(), F.end(), ByOrder);
    // A run holds its place only if nothing else of the statement (a
    // decision, a value saved with whether it ran) is restored inside it.
    bool Split = false;
    for (size_t I = 0; I + 1 < F.size(); ++I)
      if (F[I].PendingTo > F[I].PendingOf && F[I + 1].Order == F[I].Order &&
          F[I + 1].Sub <= Key[F[I].PendingTo - 1])
        Split = true;
    if (Split) {
      std::vector<FrameItem> One;
      for (const FrameItem &I : F)
        if (I.PendingTo > I.PendingOf)
          for (unsigned K = I.PendingOf; K <= I.PendingTo; ++K)
            One.push_back(PendingItem(Stops[K - 1]));
        else
          One.push_back(I);
      F = std::move(One);
      std::stable_sort(F.begin(), F.end(), ByOrder);
    }
    FinishRuns(F);
    std::string Shape = Node.MachineName + "#" + std::to_string(S.Index);
    for (const FrameItem &I : F)
      Shape += ";" + I.TypeCode;
    char Hex[16];
    snprintf(Hex, sizeof(Hex), "0x%08xu", fingerprint(Shape));
    Stops[S.Index - 1].Layout = Hex;
  }
}

unsigned MachineBuilder::estimateBytes(QualType T, unsigned Depth) const {
  T = T.getNonReferenceType().getCanonicalType().getUnqualifiedType();
  if (Depth > 4)
    return 8;
  if (T->isBooleanType())
    return 1;
  if (T->isScalarType())
    return static_cast<unsigned>(Ctx.getTypeSize(T) / 8);
  if (const auto *A = Ctx.getAsConstantArrayType(T))
    return static_cast<unsigned>(A->getSize().getZExtValue()) *
           estimateBytes(A->getElementType(), Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD)
    return 8;
  auto Arg = [&](unsigned I) -> QualType {
    if (const auto *S = dyn_cast<ClassTemplateSpecializationDecl>(RD))
      if (I < S->getTemplateArgs().size() &&
          S->getTemplateArgs()[I].getKind() == TemplateArgument::Type)
        return S->getTemplateArgs()[I].getAsType();
    return {};
  };
  if (RD->isInStdNamespace()) {
    llvm::StringRef Name = RD->getName();
    if (Name == "basic_string")
      return 8 + 16;
    if (Name == "optional" && !Arg(0).isNull())
      return 1 + estimateBytes(Arg(0), Depth + 1);
    if ((Name == "vector" || Name == "deque" || Name == "list" ||
         Name == "set" || Name == "multiset" || Name == "unordered_set") &&
        !Arg(0).isNull())
      return 8 + 4 * estimateBytes(Arg(0), Depth + 1);
    if ((Name == "map" || Name == "unordered_map" || Name == "multimap") &&
        !Arg(1).isNull())
      return 8 + 4 * (estimateBytes(Arg(0), Depth + 1) +
                      estimateBytes(Arg(1), Depth + 1));
    if (Name == "pair" && !Arg(0).isNull() && !Arg(1).isNull())
      return estimateBytes(Arg(0), Depth + 1) + estimateBytes(Arg(1), Depth + 1);
  }
  unsigned Sum = 0;
  llvm::SmallVector<const FieldDecl *, 8> Fields;
  if (RD->hasDefinition())
    SerializableChecker::collectFields(RD, Fields);
  for (const FieldDecl *F : Fields)
    Sum += estimateBytes(F->getType(), Depth + 1);
  return Sum;
}

void MachineBuilder::computeEdges() {
  AnalysisDeclContextManager Mgr(Ctx);
  AnalysisDeclContext *AC = Mgr.getContext(FD);
  AC->getCFGBuildOptions().setAllAlwaysAdd();
  From.assign(Stops.size(), {});
  CFG *G = AC->getCFG();
  if (!G)
    return;
  llvm::DenseMap<const Stmt *, unsigned> StopOf;
  for (const Stop &S : Stops)
    StopOf[S.Call] = S.Index;
  // Which stops each step reaches before any other.
  auto Walk = [&](unsigned Origin, const CFGBlock *Start, unsigned Index) {
    std::set<const CFGBlock *> Seen;
    std::vector<std::pair<const CFGBlock *, unsigned>> Work{{Start, Index}};
    while (!Work.empty()) {
      auto [B, I] = Work.back();
      Work.pop_back();
      bool Stopped = false;
      for (unsigned E = I; E < B->size(); ++E) {
        auto CS = (*B)[E].getAs<CFGStmt>();
        if (!CS)
          continue;
        auto It = StopOf.find(CS->getStmt());
        if (It == StopOf.end())
          continue;
        auto &F = From[It->second - 1];
        if (std::find(F.begin(), F.end(), Origin) == F.end())
          F.push_back(Origin);
        Stopped = true;
        break;
      }
      if (Stopped)
        continue;
      for (const CFGBlock *Succ : B->succs())
        if (Succ && Seen.insert(Succ).second)
          Work.push_back({Succ, 0});
    }
  };
  Walk(0, &G->getEntry(), 0);
  for (const CFGBlock *B : *G)
    for (unsigned E = 0; E < B->size(); ++E)
      if (auto CS = (*B)[E].getAs<CFGStmt>()) {
        auto It = StopOf.find(CS->getStmt());
        if (It != StopOf.end())
          Walk(It->second, B, E + 1);
      }
  for (auto &F : From)
    std::sort(F.begin(), F.end());
}

} // namespace machine
} // namespace cleave
