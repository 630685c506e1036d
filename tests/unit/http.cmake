# Tests of the HTTP server (src/http) and the process collector (src/process).  Included from
# tests/unit/CMakeLists.txt.  They link the shared library, as an application does.
foreach(t http_server_test http_oom_test process_collector_test)
  add_executable(${t} ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE promc promc_warnings ZLIB::ZLIB Threads::Threads)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  add_test(NAME ${t} COMMAND ${t})
  set_tests_properties(${t} PROPERTIES LABELS unit TIMEOUT 300)
endforeach()

# Concurrent scrapes and updates, then a stop under load: the TSan build runs the stress label.
add_executable(http_stress_test ${CMAKE_CURRENT_SOURCE_DIR}/http_stress_test.c)
target_link_libraries(http_stress_test PRIVATE promc promc_warnings ZLIB::ZLIB Threads::Threads)
target_include_directories(http_stress_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME http_stress_test COMMAND http_stress_test)
set_tests_properties(http_stress_test PROPERTIES LABELS stress TIMEOUT 600)

# PROMC_STATIC_SERVICE=ON in a build directory of its own: example-001 must come out as one static
# PIE that serves.  Label deploy (what the container image ships); not under sanitizers, whose
# runtimes do not link statically.
if(NOT PROMC_SANITIZE AND TARGET example-001)
  add_test(NAME http_static_service COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/http_static_service.sh
    ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR} $<TARGET_FILE:example-001> ${CMAKE_C_COMPILER})
  set_tests_properties(http_static_service PROPERTIES LABELS deploy TIMEOUT 600)
endif()
