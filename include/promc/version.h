/* SPDX-License-Identifier: Apache-2.0 */
/* promc — version information, the export and attribute macros, and the compatibility policy.
 *
 * Compatibility policy.  Until 1.0, each minor release (0.1, 0.2, ...) may change the API and the
 * ABI, and says how in CHANGELOG.md; a patch release (0.2.1) changes neither.  The shared library's
 * SONAME carries the minor version (libpromc.so.0.2), so a program built against one minor release
 * never loads another: option structs (promc_metric_opts_t, promc_http_opts_t, ...) are allocated
 * by the caller at the size its headers gave, and grow as features arrive, which reserved padding
 * could only guess at.  A public name that is renamed keeps the old name, marked PROMC_DEPRECATED,
 * for one minor release.  From 1.0 on, the SONAME is libpromc.so.1 and only a major release breaks
 * either contract. */
#ifndef PROMC_VERSION_H
#define PROMC_VERSION_H

/* The version of these headers.  Since: 0.1 */
#define PROMC_VERSION_MAJOR  0
#define PROMC_VERSION_MINOR  2
#define PROMC_VERSION_PATCH  0
#define PROMC_VERSION_STRING "0.2.0"

/* One integer that grows with every release: 0x00MMmmpp.  Since: 0.1 */
#define PROMC_VERSION_NUMBER                                                                       \
    ((PROMC_VERSION_MAJOR << 16) | (PROMC_VERSION_MINOR << 8) | PROMC_VERSION_PATCH)

/* Whether the headers are of version major.minor.patch or later, for code that supports several:
 *     #if PROMC_VERSION_AT_LEAST(0, 2, 0)
 * Since: 0.2 */
#define PROMC_VERSION_AT_LEAST(major, minor, patch)                                                \
    (PROMC_VERSION_NUMBER >= (((major) << 16) | ((minor) << 8) | (patch)))

/* PROMC_API marks the exported symbols; everything else in the library is hidden.  Since: 0.1 */
#if defined(PROMC_BUILDING) && defined(__GNUC__)
#define PROMC_API __attribute__((visibility("default")))
#else
#define PROMC_API
#endif

/* On every function that returns an error code: ignoring it is a compiler warning.  Since: 0.1 */
#if defined(__GNUC__)
#define PROMC_NODISCARD __attribute__((warn_unused_result))
#else
#define PROMC_NODISCARD
#endif

/* On a name kept for one minor release after a rename; the message names the replacement.
 * Since: 0.2 */
#if defined(PROMC_BUILDING)
#define PROMC_DEPRECATED(msg)
#elif defined(__GNUC__)
#define PROMC_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define PROMC_DEPRECATED(msg)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library linked at run time, as "MAJOR.MINOR.PATCH" (static storage).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API const char *promc_version_string(void);

/* PROMC_VERSION_NUMBER of the library linked at run time.
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API unsigned promc_version_number(void);

#ifdef __cplusplus
}
#endif
#endif
