# SPDX-License-Identifier: Apache-2.0
# Links example-001 as one fully static executable: glibc, libevent and zlib from Debian's .a files,
# as static PIE (ASLR kept).  deploy/Dockerfile loads it with
#   cmake -DCMAKE_PROJECT_INCLUDE=deploy/static-link.cmake ...
# CMake runs this file at the end of project(), after the platform files, so the library search
# below prefers archives for every find_library() and pkg_check_modules() that follows.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set(ZLIB_USE_STATIC_LIBS ON)

# The service links the shared libpromc; a static executable needs libpromc.a, whose PRIVATE
# dependencies (libevent, zlib, libm) CMake then links in as well.  Patched once the top-level
# directory is fully read, when the example-001 target exists.
function(promc_static_service)
  if(NOT TARGET example-001)
    message(FATAL_ERROR "static-link.cmake: no example-001 target (is service/ in the context?)")
  endif()
  get_target_property(libs example-001 LINK_LIBRARIES)
  list(TRANSFORM libs REPLACE "^promc$" "promc_static")
  list(TRANSFORM libs REPLACE "^promc::promc$" "promc_static")
  set_target_properties(example-001 PROPERTIES LINK_LIBRARIES "${libs}")
  target_link_options(example-001 PRIVATE -static-pie)
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL promc_static_service)
