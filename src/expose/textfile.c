/* SPDX-License-Identifier: Apache-2.0 */
/* The textfile writer (promc_registry_write_textfile): write to a temporary file beside the
 * target, fsync, chmod, rename over it, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <promc/expose.h>
#include "alloc.h"
#include "err.h"

typedef struct {
    int fd;
    int err; /* errno of a failed write */
} fd_sink_t;

static int write_all(void *ud, const void *p, size_t n)
{
    fd_sink_t *s = ud;
    const char *c = p;
    while (n) {
        ssize_t k = write(s->fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            s->err = errno;
            return -1;
        }
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int sys_err(const char *call, const char *path, int e)
{
    return promc__err(PROMC_ESYS, "%s %.300s: %s", call, path, strerror(e));
}

int promc_registry_write_textfile(promc_registry_t *r, const char *path)
{
    if (!r || !path || !*path)
        return promc__err(PROMC_EINVAL, "promc_registry_write_textfile: NULL argument");
    /* "<dir>/.<base>.XXXXXX": same directory (rename stays atomic), hidden and without .prom (the
     * collector reads *.prom only). */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dirlen;
    size_t tlen = strlen(path) + 9;
    char *tmp = promc__malloc(tlen);
    if (!tmp)
        return promc__err(PROMC_ENOMEM, "textfile name");
    snprintf(tmp, tlen, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int rc = sys_err("mkostemp", tmp, errno);
        promc__free(tmp);
        return rc;
    }
    fd_sink_t s = {fd, 0};
    int rc = promc_registry_write(r, NULL, write_all, &s);
    if (rc == PROMC_ESINK && s.err)
        rc = sys_err("write", tmp, s.err);
    if (!rc && fchmod(fd, 0644) != 0)
        rc = sys_err("fchmod", tmp, errno);
    if (!rc && fsync(fd) != 0)
        rc = sys_err("fsync", tmp, errno);
    if (close(fd) != 0 && !rc)
        rc = sys_err("close", tmp, errno);
    if (!rc && rename(tmp, path) != 0)
        rc = sys_err("rename", path, errno);
    if (rc) {
        unlink(tmp);
        promc__free(tmp);
        return rc;
    }
    promc__free(tmp);
    /* The rename itself is durable once the directory is synced (best effort: some file systems
     * refuse to open a directory for that). */
    char *dir = promc__malloc(dirlen + 2);
    if (dir) {
        if (dirlen)
            memcpy(dir, path, dirlen);
        else
            dir[dirlen++] = '.';
        dir[dirlen] = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        promc__free(dir);
    }
    promc__err_clear();
    return 0;
}
