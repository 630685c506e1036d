# SPDX-License-Identifier: Apache-2.0
# The protobuf exposition (src/expose/proto.c) packs io.prometheus.client.MetricFamily with
# protobuf-c.  The C code is generated at build time from the metrics.proto Debian ships in
# golang-github-prometheus-client-model-dev (protoc from protobuf-compiler, its C plugin from
# protobuf-c-compiler); google/protobuf/timestamp.proto comes from src/expose/proto.  The generated
# symbols are renamed to promc__pb_* (a forced include), so that a program that generates the same
# .proto for itself links with libpromc.a without a clash.
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(PROMC_PROTOC protoc)
find_program(PROMC_PROTOC_GEN_C protoc-gen-c)
if(NOT PROMC_PROTOC OR NOT PROMC_PROTOC_GEN_C)
  message(FATAL_ERROR "protoc and protoc-gen-c are needed (Debian: protobuf-compiler, protobuf-c-compiler)")
endif()
set(PROMC_CLIENT_MODEL_DIR /usr/share/gocode/src/github.com/prometheus/client_model CACHE PATH
  "The directory that holds io/prometheus/client/metrics.proto (Debian: golang-github-prometheus-client-model-dev)")
if(NOT EXISTS ${PROMC_CLIENT_MODEL_DIR}/io/prometheus/client/metrics.proto)
  message(FATAL_ERROR "no io/prometheus/client/metrics.proto under ${PROMC_CLIENT_MODEL_DIR} "
    "(Debian: golang-github-prometheus-client-model-dev; or set PROMC_CLIENT_MODEL_DIR)")
endif()
set(PROMC_PB_DIR ${CMAKE_CURRENT_BINARY_DIR}/pb)
set(PROMC_PB_SOURCES ${PROMC_PB_DIR}/io/prometheus/client/metrics.pb-c.c
  ${PROMC_PB_DIR}/google/protobuf/timestamp.pb-c.c)
set(PROMC_PB_HEADERS ${PROMC_PB_DIR}/io/prometheus/client/metrics.pb-c.h
  ${PROMC_PB_DIR}/google/protobuf/timestamp.pb-c.h)
add_custom_command(OUTPUT ${PROMC_PB_SOURCES} ${PROMC_PB_HEADERS} ${PROMC_PB_DIR}/promc_pb_names.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROMC_PB_DIR}
  COMMAND ${PROMC_PROTOC} --plugin=protoc-gen-c=${PROMC_PROTOC_GEN_C} --c_out=${PROMC_PB_DIR}
    -I${CMAKE_CURRENT_SOURCE_DIR}/src/expose/proto -I${PROMC_CLIENT_MODEL_DIR}
    io/prometheus/client/metrics.proto google/protobuf/timestamp.proto
  COMMAND ${CMAKE_COMMAND} -DOUT=${PROMC_PB_DIR}/promc_pb_names.h
    "-DHEADERS=${PROMC_PB_HEADERS}" -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/pb_names.cmake
  DEPENDS ${PROMC_CLIENT_MODEL_DIR}/io/prometheus/client/metrics.proto
    ${CMAKE_CURRENT_SOURCE_DIR}/src/expose/proto/google/protobuf/timestamp.proto
    ${CMAKE_CURRENT_SOURCE_DIR}/cmake/pb_names.cmake
  COMMENT "protoc-c: metrics.proto"
  VERBATIM)
add_custom_target(promc_pb_gen DEPENDS ${PROMC_PB_SOURCES} ${PROMC_PB_DIR}/promc_pb_names.h)
# Generated code: compiled without our warning flags, with the renaming header forced in.
set_source_files_properties(${PROMC_PB_SOURCES} PROPERTIES GENERATED ON
  COMPILE_OPTIONS "-w;-include;${PROMC_PB_DIR}/promc_pb_names.h")
