# Fails if a static library defines a global symbol outside the library's namespace.
# A program that links libbtsp.a or libbtsp_io.a into a larger simulator must not meet
# duplicate-symbol errors (or silently bind to our helpers) because of generic names such as
# net_error or vec_push: every global symbol starts with "btsp_" (internal ones "btsp__").
#   cmake -DNM=/usr/bin/nm -DLIBS="a.a;b.a" -P check_symbols.cmake
if(NOT NM OR NOT LIBS)
  message(FATAL_ERROR "check_symbols.cmake: pass -DNM=<nm> -DLIBS=<static libraries>")
endif()
set(bad "")
foreach(lib IN LISTS LIBS)
  execute_process(COMMAND ${NM} -g --defined-only ${lib}
                  OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_symbols.cmake: ${NM} failed on ${lib}: ${err}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(count 0)
  foreach(line IN LISTS lines)
    # "<address> <type> <name>"; upper-case types are global definitions.
    if(line MATCHES "^[0-9a-fA-F]+ ([A-Z]) ([^ ]+)$")
      math(EXPR count "${count} + 1")
      set(name "${CMAKE_MATCH_2}")
      # Sanitizer instrumentation adds its own globals (e.g. __odr_asan.<name> for ASan's
      # one-definition-rule check); they are the compiler's, not ours.
      if(NOT name MATCHES "^btsp_" AND NOT name MATCHES "^__(odr_asan|asan|ubsan|sancov|tsan|msan)")
        list(APPEND bad "${lib}: ${name}")
      endif()
    endif()
  endforeach()
  if(count EQUAL 0)
    message(FATAL_ERROR "check_symbols.cmake: no global symbols found in ${lib} (wrong file?)")
  endif()
  message(STATUS "${lib}: ${count} global symbols, all prefixed btsp_")
endforeach()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "global symbols without the btsp_ prefix:\n  ${bad}")
endif()
