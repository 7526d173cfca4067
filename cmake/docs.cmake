# cmake/docs.cmake — the documentation's build and tests (included from CMakeLists.txt).
#
#   cmake --build build --target docs   the API reference (Doxygen) in build/docs/api
#   docs_<name>                         each docs/examples/<name>.c: the tutorial's programs, so
#                                       every snippet in docs/*.md compiles (-Werror in CI)
#   ctest -L docs                       runs those programs on SQLite, PostgreSQL and MariaDB
#                                       (docs.<name>.<backend>, checking what they print) and
#                                       checks that docs/*.md match the code (snippets, errors)
#   ctest -L install                    tests/install/run.sh: install, then build against it
#   ctest -L abi                        tests/abi/exports.sh: libuvsql.so exports the public API
#   ctest -L headers                    tests/headers/compile.sh: each public header alone, C11
#                                       and C++17
find_program(UVSQL_DOXYGEN doxygen)
if(UVSQL_DOXYGEN)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/docs
    COMMAND ${CMAKE_COMMAND} -E env UVSQL_DOCS_OUT=${PROJECT_BINARY_DIR}/docs
            UVSQL_VERSION=${PROJECT_VERSION} ${UVSQL_DOXYGEN} docs/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: API reference in ${PROJECT_BINARY_DIR}/docs/api/index.html"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "doxygen is not installed: run bash scripts/docs.sh"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()

if(UVSQL_BUILD_EXAMPLES)
  file(GLOB UVSQL_DOC_EXAMPLES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/examples/*.c)
  foreach(src ${UVSQL_DOC_EXAMPLES})
    get_filename_component(name ${src} NAME_WE)
    add_executable(docs_${name} ${src})
    target_compile_options(docs_${name} PRIVATE ${UVSQL_WARNINGS})
    target_link_libraries(docs_${name} PRIVATE uvsql_static)
    if(UVSQL_BUILD_TESTS)
      # docs.<name>.<backend>: each program on SQLite, PostgreSQL and MariaDB (the URLs
      # scripts/test.sh exports; unset: the test fails naming the variable), through
      # docs/tools/check.sh run, which fails when it exits non-zero or prints something else
      # than docs/examples/expected/<name>[.<backend>].out. Each runs in a directory of its own
      # (SQLite files); the programs on one server run one at a time (they share table names).
      set(dir ${PROJECT_BINARY_DIR}/docs-run/${name})
      file(MAKE_DIRECTORY ${dir})
      foreach(backend sqlite postgresql mariadb)
        string(TOUPPER ${backend} BACKEND)
        if(UVSQL_WITH_${BACKEND})
          add_test(NAME docs.${name}.${backend}
                   COMMAND bash ${PROJECT_SOURCE_DIR}/docs/tools/check.sh run
                           $<TARGET_FILE:docs_${name}> ${backend}
                   WORKING_DIRECTORY ${dir})
          set_tests_properties(docs.${name}.${backend} PROPERTIES LABELS docs TIMEOUT 120
                               RESOURCE_LOCK uvsql_docs_${backend})
        endif()
      endforeach()
    endif()
  endforeach()
  add_executable(docs_errors_table ${PROJECT_SOURCE_DIR}/docs/tools/errors_table.c)
  target_compile_options(docs_errors_table PRIVATE ${UVSQL_WARNINGS})
  target_link_libraries(docs_errors_table PRIVATE uvsql_static)
  if(UVSQL_BUILD_TESTS)
    add_test(NAME docs.errors_table_is_current
             COMMAND bash ${PROJECT_SOURCE_DIR}/docs/tools/check.sh errors
                     $<TARGET_FILE:docs_errors_table>)
    set_tests_properties(docs.errors_table_is_current PROPERTIES LABELS docs TIMEOUT 60)
  endif()
endif()

if(UVSQL_BUILD_TESTS)
  add_test(NAME docs.snippets_compile
           COMMAND bash ${PROJECT_SOURCE_DIR}/docs/tools/check.sh snippets)
  set_tests_properties(docs.snippets_compile PROPERTIES LABELS docs TIMEOUT 60)
  add_test(NAME docs.snippets_check_fails_on_a_difference
           COMMAND bash ${PROJECT_SOURCE_DIR}/docs/tools/check.sh selftest)
  set_tests_properties(docs.snippets_check_fails_on_a_difference PROPERTIES LABELS docs TIMEOUT 60)

  # libuvsql.so exports exactly the functions the public headers declare (no uvsql__*).
  add_test(NAME abi.exports_are_the_public_api
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/abi/exports.sh $<TARGET_FILE:uvsql>
                   ${PROJECT_SOURCE_DIR}/include)
  set_tests_properties(abi.exports_are_the_public_api PROPERTIES LABELS abi TIMEOUT 60)

  # Every public header compiles alone as C11 and as C++17 (the C++ compiler CMake finds: CXX,
  # else c++/g++/clang++; the C++ language is not enabled for the build itself).
  include(CheckLanguage)
  check_language(CXX)
  set(UVSQL_TEST_CXX "${CMAKE_CXX_COMPILER}")
  if(NOT UVSQL_TEST_CXX)
    set(UVSQL_TEST_CXX c++) # the test says it is missing
  endif()
  add_test(NAME headers.compile_alone_c11_and_cxx17
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/headers/compile.sh ${PROJECT_SOURCE_DIR}/include
                   ${CMAKE_C_COMPILER} ${UVSQL_TEST_CXX} ${LIBUV_CFLAGS})
  set_tests_properties(headers.compile_alone_c11_and_cxx17 PROPERTIES LABELS headers TIMEOUT 120)

  # The install test builds and installs a plain (unsanitized) uvsql of its own: under
  # scripts/test.sh --asan or --valgrind it would only repeat the normal run, at the cost of a
  # full compile, so it is registered in plain builds only.
  if(NOT UVSQL_SANITIZE AND NOT CMAKE_CROSSCOMPILING_EMULATOR)
    add_test(NAME install.pkgconfig_and_cmake
             COMMAND bash ${PROJECT_SOURCE_DIR}/tests/install/run.sh ${PROJECT_SOURCE_DIR}
                     ${PROJECT_VERSION})
    set_tests_properties(install.pkgconfig_and_cmake PROPERTIES LABELS install TIMEOUT 600)
  endif()
endif()
