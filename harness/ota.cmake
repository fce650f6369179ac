# OTA pieces (issue 4, harness side): firmware bundle, disk image, A/B boot
# chooser, HTTP update server. Included from harness/CMakeLists.txt.
if(NOT TARGET PkgConfig::MHD)
  pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
endif()

# Pure cores and file shells; libc + the shared env codec and sha256 only.
add_library(vh_ota STATIC
  ${CMAKE_CURRENT_LIST_DIR}/bundle.c
  ${CMAKE_CURRENT_LIST_DIR}/disk_image.c
  ${CMAKE_CURRENT_LIST_DIR}/boot_chooser.c)
target_include_directories(vh_ota PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(vh_ota PUBLIC vh_ubootenv)

# The update server calls ev_* from ev.c, which lives in vh_core: link
# vh_update_server into vh_core (or the harness binary) next to it. The unit
# test compiles ev.c itself so it does not need the whole core.
add_library(vh_update_server STATIC ${CMAKE_CURRENT_LIST_DIR}/update_server.c)
target_include_directories(vh_update_server PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(vh_update_server PUBLIC vh_ota PkgConfig::MHD)

vh_unit_test(test_bundle SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_bundle.c LIBS vh_ota)
vh_unit_test(test_disk_image SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_disk_image.c LIBS vh_ota)
vh_unit_test(test_boot_chooser SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_boot_chooser.c LIBS vh_ota)
vh_unit_test(test_update_server
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_update_server.c ${CMAKE_CURRENT_LIST_DIR}/ev.c
  LIBS vh_update_server)
