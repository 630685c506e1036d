/* SPDX-License-Identifier: Apache-2.0 */
/* fork() handlers in level order (fork.h). */
#include <pthread.h>
#include <stddef.h>
#include "fork.h"

#define MAX_HANDLERS 16

typedef struct {
    int level;
    void (*prepare)(void);
    void (*parent)(void);
    void (*child)(void);
} handler_t;

static handler_t handlers[MAX_HANDLERS]; /* sorted by level (under table_lock) */
static size_t handler_count;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int atfork_rc;

/* The table's own lock is the outermost: no handler is added while a fork runs them. */
static void run_prepare(void)
{
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < handler_count; i++)
        if (handlers[i].prepare)
            handlers[i].prepare();
}

static void run_parent(void)
{
    for (size_t i = handler_count; i-- > 0;)
        if (handlers[i].parent)
            handlers[i].parent();
    pthread_mutex_unlock(&table_lock);
}

static void run_child(void)
{
    for (size_t i = handler_count; i-- > 0;)
        if (handlers[i].child)
            handlers[i].child();
    pthread_mutex_unlock(&table_lock);
}

static void table_init(void)
{
    atfork_rc = pthread_atfork(run_prepare, run_parent, run_child);
}

int promc__atfork_add(int level, void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    pthread_once(&table_once, table_init);
    if (atfork_rc != 0)
        return -1;
    pthread_mutex_lock(&table_lock);
    int rc = -1;
    if (handler_count < MAX_HANDLERS) {
        size_t i = handler_count;
        while (i > 0 && handlers[i - 1].level > level) {
            handlers[i] = handlers[i - 1];
            i--;
        }
        handlers[i] = (handler_t){level, prepare, parent, child};
        handler_count++;
        rc = 0;
    }
    pthread_mutex_unlock(&table_lock);
    return rc;
}
