//===- Diagnostics.h - Cleave's diagnostics through Clang's engine -*- C++ -*-//
//
// Every problem the compiler reports goes through a clang::DiagnosticsEngine,
// so it prints as `file:line:col: error: ...` with the source line and caret,
// and `-Xclang -verify` tests can check it. Messages are lower-case without a
// trailing period, like Clang's own.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FRONTEND_DIAGNOSTICS_H
#define CLEAVE_FRONTEND_DIAGNOSTICS_H

#include "clang/Basic/Diagnostic.h"

namespace cleave {

class Reporter {
public:
  explicit Reporter(clang::DiagnosticsEngine &Diags)
      : Diags(Diags),
        ErrorID(Diags.getCustomDiagID(clang::DiagnosticsEngine::Error, "%0")),
        WarningID(
            Diags.getCustomDiagID(clang::DiagnosticsEngine::Warning, "%0")),
        NoteID(Diags.getCustomDiagID(clang::DiagnosticsEngine::Note, "%0")),
        RemarkID(
            Diags.getCustomDiagID(clang::DiagnosticsEngine::Remark, "%0")) {}

  clang::DiagnosticBuilder error(clang::SourceLocation Loc,
                                 llvm::StringRef Message) {
    return report(ErrorID, Loc, Message);
  }
  clang::DiagnosticBuilder warning(clang::SourceLocation Loc,
                                   llvm::StringRef Message) {
    return report(WarningID, Loc, Message);
  }
  clang::DiagnosticBuilder note(clang::SourceLocation Loc,
                                llvm::StringRef Message) {
    return report(NoteID, Loc, Message);
  }
  clang::DiagnosticBuilder remark(clang::SourceLocation Loc,
                                  llvm::StringRef Message) {
    return report(RemarkID, Loc, Message);
  }

  clang::DiagnosticsEngine &engine() { return Diags; }

private:
  clang::DiagnosticBuilder report(unsigned ID, clang::SourceLocation Loc,
                                  llvm::StringRef Message) {
    return Diags.Report(Loc, ID) << Message;
  }

  clang::DiagnosticsEngine &Diags;
  unsigned ErrorID, WarningID, NoteID, RemarkID;
};

} // namespace cleave

#endif // CLEAVE_FRONTEND_DIAGNOSTICS_H
