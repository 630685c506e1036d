# SPDX-License-Identifier: Apache-2.0
# Tests of the HTTP server (src/http) and the process collector (src/process).  Included from
# tests/unit/CMakeLists.txt.  They link the shared library, as an application does.
# test_http_stress: concurrent scrapes and updates, then a stop under load (label stress: the TSan
# build runs it).
foreach(t test_http_server test_http_oom test_process test_http_stress)
  add_executable(${t} ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE promc promc_warnings ZLIB::ZLIB Threads::Threads)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
endforeach()
promc_add_suite(test_http_server)
promc_add_suite(test_http_oom)
promc_add_suite(test_process)
promc_add_suite(test_http_stress LABEL stress TIMEOUT 600)
# The web configuration: an OpenSSL client, and bcrypt hashes made with libxcrypt.
add_executable(test_http_tls ${CMAKE_CURRENT_SOURCE_DIR}/test_http_tls.c)
target_link_libraries(test_http_tls PRIVATE promc promc_warnings ZLIB::ZLIB Threads::Threads
  PkgConfig::WEBSEC)
target_include_directories(test_http_tls PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
promc_add_suite(test_http_tls)

# PROMC_STATIC_SERVICE=ON in a build directory of its own: example-001 must come out as one static
# PIE that serves.  Label deploy (what the container image ships); not under sanitizers, whose
# runtimes do not link statically.
if(NOT PROMC_SANITIZE AND TARGET example-001)
  add_test(NAME http_static_service COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/http_static_service.sh
    ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR} $<TARGET_FILE:example-001> ${CMAKE_C_COMPILER})
  set_tests_properties(http_static_service PROPERTIES LABELS deploy TIMEOUT 600)
endif()
