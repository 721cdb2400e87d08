# Install rules: headers, the shared and static libraries with an exported CMake package
# (btsp::btsp, btsp::btsp_static; btsp::io with COMPONENTS io), and relocatable pkg-config
# files (libbtsp, libbtsp_io). Everything is installed
# relative to the prefix (GNUInstallDirs), so the tree can be moved after installation.
#
#   cmake --install build --prefix /some/where
#   find_package(btsp CONFIG REQUIRED)      # CMAKE_PREFIX_PATH=/some/where
#   pkg-config --cflags --libs libbtsp      # PKG_CONFIG_PATH=/some/where/lib/pkgconfig

if(CMAKE_SKIP_INSTALL_RULES)
  return()
endif()

set(BTSP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/btsp" CACHE STRING
    "Install directory of btspConfig.cmake, relative to the prefix")
set(BTSP_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig" CACHE STRING
    "Install directory of libbtsp.pc, relative to the prefix")
mark_as_advanced(BTSP_INSTALL_CMAKEDIR BTSP_INSTALL_PKGCONFIGDIR)

# Headers: every include/btsp/*.h; those of libbtsp_io only when libbtsp_io is built.
set(BTSP_IO_HEADERS btsp_io.h btsp_config.h btsp_analysis.h)
set(_btsp_header_excludes "")
if(NOT TARGET btsp_io)
  foreach(_h ${BTSP_IO_HEADERS})
    list(APPEND _btsp_header_excludes PATTERN "${_h}" EXCLUDE)
  endforeach()
endif()
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/btsp"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  COMPONENT btsp_Development
  FILES_MATCHING PATTERN "*.h"
  ${_btsp_header_excludes})

# Libraries. libbtsp.so.MAJOR is the runtime part; the namelink, the archive and the headers are
# the development part.
install(TARGETS btsp_shared btsp_static
  EXPORT btspTargets
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT btsp_Runtime
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT btsp_Runtime
          NAMELINK_COMPONENT btsp_Development
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT btsp_Development)
# (The include directory comes from the targets' $<INSTALL_INTERFACE:...> in src/CMakeLists.txt.)

# libbtsp_io (static; EIANN configs, IDX/.npy I/O, analyses; needs libyaml, zlib and optionally
# libpng): its own export set, so that find_package(btsp) without COMPONENTS io never looks for
# those libraries (btspConfig.cmake loads btspIoTargets.cmake only when io is requested).
if(TARGET btsp_io)
  install(TARGETS btsp_io
    EXPORT btspIoTargets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT btsp_Development)
  install(EXPORT btspIoTargets
    NAMESPACE btsp::
    FILE btspIoTargets.cmake
    DESTINATION "${BTSP_INSTALL_CMAKEDIR}"
    COMPONENT btsp_Development)
endif()
# The Python binding: python/btsp.py beside the module it loads (libbtsp_python.so), in
# <libdir>/btsp/python; put that directory on PYTHONPATH.
if(TARGET btsp_python)
  install(TARGETS btsp_python LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}/btsp/python" COMPONENT btsp_Runtime)
  install(FILES "${PROJECT_SOURCE_DIR}/python/btsp.py" DESTINATION "${CMAKE_INSTALL_LIBDIR}/btsp/python"
    COMPONENT btsp_Runtime)
endif()
# The btsp program is installed when it is built.
if(TARGET btsp_cli)
  install(TARGETS btsp_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT btsp_Runtime)
endif()

# CMake package: btspConfig.cmake, btspConfigVersion.cmake, btspTargets*.cmake.
if(TARGET btsp_io)
  set(BTSP_PACKAGE_HAS_IO TRUE)
else()
  set(BTSP_PACKAGE_HAS_IO FALSE)
endif()
if(BTSP_IO_USES_PNG)
  set(BTSP_PACKAGE_IO_PNG TRUE)
else()
  set(BTSP_PACKAGE_IO_PNG FALSE)
endif()
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/btspConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/btspConfig.cmake"
  INSTALL_DESTINATION "${BTSP_INSTALL_CMAKEDIR}")
# The package accepts what the soname does (BTSP_SOVERSION, src/CMakeLists.txt): before 1.0
# only the same MAJOR.MINOR, from 1.0 on the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_btsp_compat SameMinorVersion)
else()
  set(_btsp_compat SameMajorVersion)
endif()
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/btspConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY ${_btsp_compat})
install(FILES
    "${PROJECT_BINARY_DIR}/btspConfig.cmake"
    "${PROJECT_BINARY_DIR}/btspConfigVersion.cmake"
  DESTINATION "${BTSP_INSTALL_CMAKEDIR}"
  COMPONENT btsp_Development)
install(EXPORT btspTargets
  NAMESPACE btsp::
  FILE btspTargets.cmake
  DESTINATION "${BTSP_INSTALL_CMAKEDIR}"
  COMPONENT btsp_Development)

# pkg-config: prefix is derived from the .pc file's own location (${pcfiledir}), so the
# installed tree stays usable after it is moved.
if(IS_ABSOLUTE "${BTSP_INSTALL_PKGCONFIGDIR}")
  set(BTSP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _btsp_pc_up "/prefix/${BTSP_INSTALL_PKGCONFIGDIR}" "/prefix")
  string(REGEX REPLACE "/$" "" _btsp_pc_up "${_btsp_pc_up}")
  set(BTSP_PC_PREFIX "\${pcfiledir}/${_btsp_pc_up}")
endif()
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(BTSP_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(BTSP_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
configure_file("${PROJECT_SOURCE_DIR}/cmake/libbtsp.pc.in" "${PROJECT_BINARY_DIR}/libbtsp.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/libbtsp.pc"
  DESTINATION "${BTSP_INSTALL_PKGCONFIGDIR}"
  COMPONENT btsp_Development)
if(TARGET btsp_io)
  # libbtsp_io is static only, so its dependencies are public in its .pc file.
  set(BTSP_IO_PC_REQUIRES "libbtsp yaml-0.1 zlib")
  if(BTSP_IO_USES_PNG)
    string(APPEND BTSP_IO_PC_REQUIRES " libpng")
  endif()
  configure_file("${PROJECT_SOURCE_DIR}/cmake/libbtsp_io.pc.in" "${PROJECT_BINARY_DIR}/libbtsp_io.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/libbtsp_io.pc"
    DESTINATION "${BTSP_INSTALL_PKGCONFIGDIR}"
    COMPONENT btsp_Development)
endif()

# License and top-level documents.
foreach(_doc LICENSE README.md CHANGELOG.md)
  if(EXISTS "${PROJECT_SOURCE_DIR}/${_doc}")
    install(FILES "${PROJECT_SOURCE_DIR}/${_doc}" DESTINATION "${CMAKE_INSTALL_DOCDIR}"
      COMPONENT btsp_Development)
  endif()
endforeach()
