# Turns a text file into a C string at build time, so the report page's
# template stays a readable .html file in the tree:
#   cmake -DIN=page.html -DOUT=page.c -DNAME=report_page -P embed.cmake
# writes `const char NAME[] = { ..., 0 };`.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}.tmp"
  "/* Generated from ${IN} by embed.cmake: do not edit. */\n"
  "const char ${NAME}[] = { ${bytes} 0 };\n")
file(RENAME "${OUT}.tmp" "${OUT}")
