# cmake -DIN=file -DOUT=file.c -P embed.cmake: writes `const char btsp_demo_config[]` holding
# the bytes of IN plus a terminating NUL, so the program needs no file at run time.
file(READ "${IN}" _hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" _bytes "${_bytes}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed.cmake. Do not edit. */\n"
  "extern const char btsp_demo_config[];\nconst char btsp_demo_config[] = {\n${_bytes}0x00};\n")
