# `docs` target: Doxygen HTML from the public headers, docs/*.md and README.md, written to
# <build>/docs/html. Fails on any Doxygen warning (undocumented public symbol, bad @param,
# broken reference). Not part of `all`:  cmake --build <build> --target docs

if(NOT PROJECT_IS_TOP_LEVEL)
  return()
endif()

find_package(Doxygen 1.9 QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "Doxygen not found: the 'docs' target is not available")
  return()
endif()

set(BTSP_DOCS_OUTPUT_DIR "${PROJECT_BINARY_DIR}/docs")
file(GLOB _btsp_doc_pages CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/*.md")
set(_btsp_doc_inputs
  "${PROJECT_SOURCE_DIR}/include/btsp"
  ${_btsp_doc_pages})
if(EXISTS "${PROJECT_SOURCE_DIR}/README.md")
  list(APPEND _btsp_doc_inputs "${PROJECT_SOURCE_DIR}/README.md")
endif()
# Doxyfile list syntax: space-separated, each entry quoted.
list(TRANSFORM _btsp_doc_inputs PREPEND "\"")
list(TRANSFORM _btsp_doc_inputs APPEND "\"")
list(JOIN _btsp_doc_inputs " " BTSP_DOXYGEN_INPUT)

# Examples are quoted from compiled sources (\example, \include, \snippet).
set(BTSP_DOXYGEN_EXAMPLE_PATH "")
if(IS_DIRECTORY "${PROJECT_SOURCE_DIR}/examples")
  set(BTSP_DOXYGEN_EXAMPLE_PATH "\"${PROJECT_SOURCE_DIR}/examples\"")
endif()

configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${PROJECT_BINARY_DIR}/Doxyfile" @ONLY)

file(GLOB _btsp_doc_headers CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/include/btsp/*.h")
add_custom_target(docs
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${BTSP_DOCS_OUTPUT_DIR}"
  COMMAND Doxygen::doxygen "${PROJECT_BINARY_DIR}/Doxyfile"
  COMMAND "${CMAKE_COMMAND}" -E echo "Documentation: ${BTSP_DOCS_OUTPUT_DIR}/html/index.html"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  DEPENDS "${PROJECT_BINARY_DIR}/Doxyfile" ${_btsp_doc_headers} ${_btsp_doc_pages}
  COMMENT "Generating API documentation with Doxygen (warnings are errors)"
  VERBATIM)
