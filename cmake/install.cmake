# cmake/install.cmake — what `cmake --install` puts where (included from CMakeLists.txt).
#
#   <prefix>/include/uvsql.h, <prefix>/include/uvsql/*.h      the public headers
#   <libdir>/libuvsql.so.<version>, .so.0 (soname), .so       the shared library
#   <libdir>/libuvsql.a                                       the static library
#   <libdir>/pkgconfig/uvsql.pc                               pkg-config: uvsql
#   <libdir>/cmake/uvsql/uvsqlConfig.cmake, ...Version.cmake,  find_package(uvsql):
#                        uvsqlTargets*.cmake                   uvsql::uvsql, uvsql::uvsql_static
#   <prefix>/share/doc/uvsql/LICENSE, CHANGELOG.md
#
# Both the pkg-config file and the CMake package find the installation relative to themselves
# or to the prefix given at install time (`cmake --install build --prefix DIR` works without
# reconfiguring), and name no path of the source or build tree.
# tests/install/run.sh proves it: it installs into a temporary prefix and builds a program
# against the installed copy both ways.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# libuvsql.so exports only the public API (uvsql_[!_]*): see CMakeLists.txt, cmake/uvsql.map.

# The names a program in this build (add_subdirectory) links with are the installed ones too.
add_library(uvsql::uvsql ALIAS uvsql)
add_library(uvsql::uvsql_static ALIAS uvsql_static)
set_target_properties(uvsql_static PROPERTIES EXPORT_NAME uvsql_static)

set(UVSQL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/uvsql)

install(TARGETS uvsql uvsql_static EXPORT uvsqlTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---------------------------------------------------------------- CMake package
install(EXPORT uvsqlTargets NAMESPACE uvsql:: DESTINATION ${UVSQL_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/uvsqlConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/uvsqlConfig.cmake
                              INSTALL_DESTINATION ${UVSQL_CMAKE_DIR})
# 0.x: a minor release may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/uvsqlConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/uvsqlConfig.cmake ${PROJECT_BINARY_DIR}/uvsqlConfigVersion.cmake
        DESTINATION ${UVSQL_CMAKE_DIR})

# ---------------------------------------------------------------- pkg-config
# The client libraries go in Libs.private as the link flags their own .pc files give (found at
# configure time), not in Requires.private: Debian's libpq.pc lists static-only archives in its
# own Libs.private (-lpgcommon -lpgport) that libpq-dev does not put on the linker's path, so
# with Requires.private `pkg-config --static --libs uvsql` would print a line that cannot link.
# As it is, --static links libuvsql.a against the system's shared client libraries.
set(UVSQL_PC_LIBS_PRIVATE "")
foreach(dep LIBPQ LIBMARIADB SQLITE3)
  foreach(flag ${${dep}_LDFLAGS})
    if(NOT flag IN_LIST UVSQL_PC_LIBS_PRIVATE)
      list(APPEND UVSQL_PC_LIBS_PRIVATE ${flag})
    endif()
  endforeach()
endforeach()
list(APPEND UVSQL_PC_LIBS_PRIVATE -pthread)
list(JOIN UVSQL_PC_LIBS_PRIVATE " " UVSQL_PC_LIBS_PRIVATE)
foreach(d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(UVSQL_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(UVSQL_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
# The prefix is written at install time, so that `cmake --install --prefix DIR` is honoured:
# the first pass fills in everything else and leaves @UVSQL_PC_PREFIX@ for the second.
set(UVSQL_PC_PREFIX "@UVSQL_PC_PREFIX@")
configure_file(${PROJECT_SOURCE_DIR}/cmake/uvsql.pc.in ${PROJECT_BINARY_DIR}/uvsql.pc.in @ONLY)
install(CODE "
  file(READ \"${PROJECT_BINARY_DIR}/uvsql.pc.in\" uvsql_pc)
  string(REPLACE \"@UVSQL_PC_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" uvsql_pc \"\${uvsql_pc}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/pkgconfig/uvsql.pc\" \"\${uvsql_pc}\")
")
install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/uvsql.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
