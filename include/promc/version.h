/* promc — Prometheus instrumentation for C.  Version information. */
#ifndef PROMC_VERSION_H
#define PROMC_VERSION_H

#define PROMC_VERSION_MAJOR  0
#define PROMC_VERSION_MINOR  1
#define PROMC_VERSION_PATCH  0
#define PROMC_VERSION_STRING "0.1.0"
/* One integer that grows with every release: 0x00MMmmpp. */
#define PROMC_VERSION_NUMBER                                                                       \
    ((PROMC_VERSION_MAJOR << 16) | (PROMC_VERSION_MINOR << 8) | PROMC_VERSION_PATCH)

/* PROMC_API marks the exported symbols; everything else in the library is hidden. */
#if defined(PROMC_BUILDING) && defined(__GNUC__)
#define PROMC_API __attribute__((visibility("default")))
#else
#define PROMC_API
#endif

#if defined(__GNUC__)
#define PROMC_NODISCARD __attribute__((warn_unused_result))
#else
#define PROMC_NODISCARD
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
