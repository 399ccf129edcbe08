# cleave_add_deployment: cut a program of the user's build into a
# deployment, as part of that build.
#
#   cleave_add_deployment(<name>
#     TARGET <target> | SOURCES <file>...
#     [OUTPUT_DIR <dir>]             default: <current binary dir>/<name>
#     [OPTIONS <cleave option>...]   e.g. -Rcleave
#     [LINK_LIBRARIES <item>...]     linked besides the target's own
#     [INSTALL_DESTINATION <dir>]    default: <libdir>/cleave/<name>
#     [SERVE_ARGS <cleave-run option>...]  for <name>-serve, e.g. --port 9000
#     [NO_INSTALL] [ALLOW_UNDEFINED])
#
# At build time, cleave reads the sources with the flags the compiler gets
# for them (CMake's compile database for the target) and writes
# OUTPUT_DIR/manifest.yaml and OUTPUT_DIR/src/, with a depfile, so that
# every header it read is tracked. An unchanged generated file keeps its
# time stamp. The handler library is the target <name>-handlers of this
# build (its compiler, generator and flags), linked to the target's
# libraries with no undefined symbol allowed; it is written where the
# manifest names it, OUTPUT_DIR/build/libcleave_handlers.so.
#
# Also: <name>-serve (cleave-run on the deployment, with SERVE_ARGS),
# <name>-inspect (its tables), and install() rules for the manifest and
# the library. docs/cmake.md has an example.
#
# In SOURCES mode the sources get this directory's flags, through an
# internal object library, <name>-sources, never built.

include_guard(GLOBAL)
include(GNUInstallDirs)

# A generated unit's file name, as cleave gives it: the source's name with
# .cpp, then _2, _3... for a name already taken (cleave_module.cpp is).
function(_cleave_unit_names out_var)
  set(taken cleave_module.cpp)
  set(names)
  foreach(src IN LISTS ARGN)
    get_filename_component(stem "${src}" NAME_WLE)
    set(name "${stem}.cpp")
    set(n 2)
    while(name IN_LIST taken)
      set(name "${stem}_${n}.cpp")
      math(EXPR n "${n} + 1")
    endwhile()
    list(APPEND taken "${name}")
    list(APPEND names "${name}")
  endforeach()
  set(${out_var} "${names}" PARENT_SCOPE)
endfunction()

# Static libraries of this project that the handler library links must be
# position independent; imported ones are what they are.
function(_cleave_make_pic target)
  get_property(seen GLOBAL PROPERTY _CLEAVE_PIC_SEEN)
  if(target IN_LIST seen OR NOT TARGET "${target}")
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY _CLEAVE_PIC_SEEN "${target}")
  get_target_property(aliased "${target}" ALIASED_TARGET)
  if(aliased)
    set(target "${aliased}")
  endif()
  get_target_property(imported "${target}" IMPORTED)
  get_target_property(type "${target}" TYPE)
  if(NOT imported AND type MATCHES "STATIC_LIBRARY|OBJECT_LIBRARY")
    set_property(TARGET "${target}" PROPERTY POSITION_INDEPENDENT_CODE ON)
  endif()
  set(deps)
  if(NOT imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(deps "${target}" LINK_LIBRARIES)
  endif()
  get_target_property(ideps "${target}" INTERFACE_LINK_LIBRARIES)
  foreach(dep IN LISTS deps ideps)
    if(dep AND NOT dep MATCHES "^\\$<" AND TARGET "${dep}")
      _cleave_make_pic("${dep}")
    endif()
  endforeach()
endfunction()

function(cleave_add_deployment name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_INSTALL;ALLOW_UNDEFINED"
    "TARGET;OUTPUT_DIR;INSTALL_DESTINATION" "SOURCES;OPTIONS;LINK_LIBRARIES;SERVE_ARGS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cleave_add_deployment(${name}): unknown arguments: "
      "${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_.+-]+$")
    message(FATAL_ERROR "cleave_add_deployment: '${name}' is not a valid "
      "deployment name (letters, digits, '_', '.', '+', '-')")
  endif()
  if((ARG_TARGET AND ARG_SOURCES) OR (NOT ARG_TARGET AND NOT ARG_SOURCES))
    message(FATAL_ERROR "cleave_add_deployment(${name}): give either "
      "TARGET <target> or SOURCES <file>...")
  endif()
  if(ARG_TARGET AND NOT TARGET "${ARG_TARGET}")
    message(FATAL_ERROR "cleave_add_deployment(${name}): no target named "
      "'${ARG_TARGET}' (define it before cleave_add_deployment)")
  endif()
  get_property(names GLOBAL PROPERTY _CLEAVE_DEPLOYMENTS)
  if(name IN_LIST names OR TARGET "${name}-handlers")
    message(FATAL_ERROR "cleave_add_deployment(${name}): a deployment of "
      "that name already exists")
  endif()
  set_property(GLOBAL APPEND PROPERTY _CLEAVE_DEPLOYMENTS "${name}")
  # The sources' flags: the target's, or this directory's through an
  # object library that is never built.
  set(target "${ARG_TARGET}")
  if(ARG_SOURCES)
    # A misspelt keyword after SOURCES reads as one more source.
    foreach(src IN LISTS ARG_SOURCES)
      get_filename_component(path "${src}" ABSOLUTE
        BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      get_source_file_property(generated "${path}" GENERATED)
      if(NOT EXISTS "${path}" AND NOT generated)
        message(FATAL_ERROR "cleave_add_deployment(${name}): no source "
          "'${src}' (in ${CMAKE_CURRENT_SOURCE_DIR}); a misspelt keyword? "
          "The keywords are TARGET, SOURCES, OUTPUT_DIR, OPTIONS, "
          "LINK_LIBRARIES, SERVE_ARGS, INSTALL_DESTINATION, NO_INSTALL and "
          "ALLOW_UNDEFINED")
      endif()
    endforeach()
    set(target "${name}-sources")
    add_library("${target}" OBJECT EXCLUDE_FROM_ALL ${ARG_SOURCES})
    target_link_libraries("${target}" PRIVATE Cleave::annotations
      ${ARG_LINK_LIBRARIES})
  endif()
  set(out "${ARG_OUTPUT_DIR}")
  if(NOT out)
    set(out "${name}")
  endif()
  get_filename_component(out "${out}" ABSOLUTE
    BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  # The analysis reads the flags the compiler gets, from the database CMake
  # writes for the target (whatever generator expressions made them).
  set_property(TARGET "${target}" PROPERTY EXPORT_COMPILE_COMMANDS ON)
  # The rest waits for the end of the directory, when the target has all
  # its sources and libraries.
  cmake_language(EVAL CODE "
    cmake_language(DEFER CALL _cleave_finish_deployment [[${name}]]
      [[${target}]] [[${out}]] [[${ARG_OPTIONS}]] [[${ARG_LINK_LIBRARIES}]]
      [[${ARG_INSTALL_DESTINATION}]] [[${ARG_NO_INSTALL}]]
      [[${ARG_ALLOW_UNDEFINED}]] [[${ARG_SERVE_ARGS}]])")
endfunction()

function(_cleave_finish_deployment name target out options link_libraries
         install_destination no_install allow_undefined serve_args)
  get_target_property(all_sources "${target}" SOURCES)
  get_target_property(source_dir "${target}" SOURCE_DIR)
  set(sources)
  foreach(src IN LISTS all_sources)
    if(src MATCHES "^\\$<")
      message(WARNING "cleave_add_deployment(${name}): the source '${src}' "
        "of '${target}' is a generator expression; cleave does not read it")
      continue()
    endif()
    if(src MATCHES "\\.(cpp|cc|cxx|c\\+\\+|C)$")
      get_filename_component(src "${src}" ABSOLUTE BASE_DIR "${source_dir}")
      list(APPEND sources "${src}")
    endif()
  endforeach()
  if(NOT sources)
    message(FATAL_ERROR "cleave_add_deployment(${name}): '${target}' has no "
      "C++ source (.cpp, .cc, .cxx, .c++, .C)")
  endif()
  _cleave_unit_names(units ${sources})
  set(generated "${out}/src/cleave_module.cpp")
  foreach(unit IN LISTS units)
    list(APPEND generated "${out}/src/${unit}")
  endforeach()

  add_custom_command(
    OUTPUT "${out}/manifest.yaml"
    BYPRODUCTS ${generated} "${out}/CMakeLists.txt"
    COMMAND Cleave::cleave build -q --no-build --name "${name}"
      -o "${out}" -p "${CMAKE_BINARY_DIR}/compile_commands.json"
      --source-root "${PROJECT_SOURCE_DIR}"
      --depfile "${out}/cleave.d" ${options} ${sources}
    DEPFILE "${out}/cleave.d"
    DEPENDS ${sources} Cleave::cleave
      "${CMAKE_BINARY_DIR}/compile_commands.json"
    COMMENT "Cleaving ${name} (${target})"
    COMMAND_EXPAND_LISTS VERBATIM)

  set(handlers "${name}-handlers")
  add_library("${handlers}" MODULE ${generated} "${out}/manifest.yaml")
  set_target_properties("${handlers}" PROPERTIES
    PREFIX lib OUTPUT_NAME cleave_handlers SUFFIX .so
    LIBRARY_OUTPUT_DIRECTORY "$<1:${out}/build>"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  foreach(prop CXX_STANDARD CXX_STANDARD_REQUIRED CXX_EXTENSIONS)
    get_target_property(value "${target}" ${prop})
    if(NOT value STREQUAL "value-NOTFOUND")
      set_property(TARGET "${handlers}" PROPERTY ${prop} "${value}")
    endif()
  endforeach()
  # The target's own flags, evaluated for the handler library.
  set(tp "$<TARGET_PROPERTY:${target},")
  target_compile_definitions("${handlers}" PRIVATE CLEAVE_HANDLER_LIBRARY
    "${tp}COMPILE_DEFINITIONS>")
  target_include_directories("${handlers}" PRIVATE
    "${tp}INCLUDE_DIRECTORIES>")
  target_compile_options("${handlers}" PRIVATE "${tp}COMPILE_OPTIONS>")
  target_compile_features("${handlers}" PRIVATE "${tp}COMPILE_FEATURES>")
  # A rewritten unit finds the "..." includes of its original.
  foreach(src unit IN ZIP_LISTS sources units)
    get_filename_component(dir "${src}" DIRECTORY)
    set_property(SOURCE "${out}/src/${unit}" APPEND PROPERTY
      COMPILE_OPTIONS "-iquote" "${dir}")
  endforeach()
  get_target_property(type "${target}" TYPE)
  set(libs)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(libs "${target}" LINK_LIBRARIES)
    if(NOT libs)
      set(libs)
    endif()
  endif()
  target_link_libraries("${handlers}" PRIVATE Cleave::support ${libs}
    ${link_libraries})
  foreach(lib IN LISTS libs link_libraries)
    if(TARGET "${lib}")
      _cleave_make_pic("${lib}")
    endif()
  endforeach()
  if(NOT allow_undefined)
    target_link_options("${handlers}" PRIVATE LINKER:--no-undefined)
  endif()

  add_custom_target("${name}-serve"
    COMMAND Cleave::cleave-run "${out}" ${serve_args}
    DEPENDS "${handlers}"
    USES_TERMINAL COMMAND_EXPAND_LISTS VERBATIM
    COMMENT "Serving ${name} from ${out}")
  add_custom_target("${name}-inspect"
    COMMAND Cleave::cleave inspect "${out}"
    DEPENDS "${out}/manifest.yaml"
    USES_TERMINAL VERBATIM)

  if(NOT no_install)
    if(NOT install_destination)
      set(install_destination "${CMAKE_INSTALL_LIBDIR}/cleave/${name}")
    endif()
    install(FILES "${out}/manifest.yaml" DESTINATION "${install_destination}")
    install(TARGETS "${handlers}"
      LIBRARY DESTINATION "${install_destination}/build")
  endif()
endfunction()
