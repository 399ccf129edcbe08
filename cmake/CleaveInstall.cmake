# What `cmake --install` puts under the prefix, and the Debian package
# `make package` builds from it (CPack):
#
#   bin/cleave, bin/cleave-run
#   include/cleave/        the headers programs and generated code include
#   lib/libcleave_support.a  what every handler library links
#   lib/cmake/Cleave/      the CMake package: find_package(Cleave)
#   share/cleave/          the manifest's JSON Schema
#
# cleave finds include/ beside its own bin/, so the tree can move.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CLEAVE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Cleave)

# LLVM's shared libraries live in LLVM's own folder, not the linker's.
set_target_properties(cleave PROPERTIES INSTALL_RPATH "${LLVM_LIBRARY_DIR}")

install(TARGETS cleave cleave-run cleaveAnnotations cleaveSupport
  EXPORT CleaveTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cleave
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT cleave)

# Only what a program or a handler library includes; the runtime's own
# headers (Server.h, StateStore.h, ...) stay inside cleave-run.
install(FILES
  runtime/include/cleave/abi.h
  runtime/include/cleave/cleave.h
  runtime/include/cleave/codec.h
  runtime/include/cleave/exception_types.def
  runtime/include/cleave/frame.h
  runtime/include/cleave/handler.h
  runtime/include/cleave/registry.h
  runtime/include/cleave/resume.h
  runtime/include/cleave/thrown.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cleave COMPONENT cleave)

install(FILES runtime/schema/manifest.schema.json
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cleave COMPONENT cleave)

install(EXPORT CleaveTargets NAMESPACE Cleave::
  DESTINATION ${CLEAVE_INSTALL_CMAKEDIR} COMPONENT cleave)
configure_package_config_file(cmake/CleaveConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/CleaveConfig.cmake
  INSTALL_DESTINATION ${CLEAVE_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_DATADIR)
# 0.x: a minor version may change the manifest or the generated code.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/CleaveConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/CleaveConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/CleaveConfigVersion.cmake
  cmake/CleaveDeployment.cmake
  DESTINATION ${CLEAVE_INSTALL_CMAKEDIR} COMPONENT cleave)

# --- The Debian package (make package) ---------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cleave)
set(CPACK_PACKAGE_VENDOR "Cleave")
set(CPACK_PACKAGE_CONTACT "Cleave <cleave@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "compiler that cuts annotated C++ programs into serverless functions")
set(CPACK_PACKAGE_DESCRIPTION
  "cleave reads an ordinary C++ program with a few annotations and emits \
handler sources and a deployment manifest; cleave-run serves the deployment \
on one machine.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# The shared libraries the two tools link, found by dpkg-shlibdeps (LLVM,
# Clang, yaml-cpp, fmt, SQLite, hiredis, OpenSSL...), and what `cleave build`
# runs and includes: CMake and a C++ compiler for the handler library,
# nlohmann's JSON for the generated code, Clang's builtin headers.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${LLVM_LIBRARY_DIR})
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "cmake (>= 3.20), g++ | c++-compiler, nlohmann-json3-dev (>= 3.10), \
libclang-common-19-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ninja-build")
include(CPack)
