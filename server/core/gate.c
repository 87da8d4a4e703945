/*
 * gate.c: the request slots (gate.h). A line of waiters, each with its own condition
 * variable, so that a slot given back wakes exactly the next thread in line, not all of them.
 */
#include "gate.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

struct waiter {
    pthread_cond_t cv;
    struct waiter *next;
    bool go;
};

/* Four slots per CPU, at least eight: enough to keep the CPUs busy while some slots wait on
 * the disk, few enough that the scheduler is not what requests wait for. */
#define GATE_SLOTS_PER_CPU 4
#define GATE_SLOTS_MIN     8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int slots, busy, queued;
static struct waiter *head, *tail;

/* How deep this thread is in gate_enter (0: it holds no slot), and whether it let its slot
 * go for a wait (gate_wait_begin). */
static _Thread_local int depth;
static _Thread_local bool waiting;

static void default_slots(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 ? (int)cpus * GATE_SLOTS_PER_CPU : GATE_SLOTS_MIN;
    slots = n < GATE_SLOTS_MIN ? GATE_SLOTS_MIN : n;
}

void gate_init(int n)
{
    pthread_once(&once, default_slots);
    pthread_mutex_lock(&mu);
    slots = n < 1 ? 1 : n;
    pthread_mutex_unlock(&mu);
}

/* Takes a slot, waiting for one at the end of the line, or at its head (front). */
static void take(bool front)
{
    pthread_once(&once, default_slots);
    pthread_mutex_lock(&mu);
    if (busy < slots && !head) {
        busy++;
        pthread_mutex_unlock(&mu);
        return;
    }
    struct waiter w = {.next = NULL, .go = false};
    pthread_cond_init(&w.cv, NULL);
    if (!head) {
        head = tail = &w;
    } else if (front) {
        w.next = head;
        head = &w;
    } else {
        tail->next = &w;
        tail = &w;
    }
    queued++;
    while (!w.go)
        pthread_cond_wait(&w.cv, &mu);
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&w.cv);
}

static void give(void)
{
    pthread_mutex_lock(&mu);
    struct waiter *w = head;
    if (w) {
        /* The slot passes to the first in line; busy does not change. */
        head = w->next;
        if (!head)
            tail = NULL;
        queued--;
        w->go = true;
        pthread_cond_signal(&w->cv);
    } else {
        busy--;
    }
    pthread_mutex_unlock(&mu);
}

void gate_enter(void)
{
    if (depth++ == 0)
        take(false);
}

void gate_leave(void)
{
    if (--depth == 0)
        give();
}

void gate_wait_begin(void)
{
    if (depth > 0 && !waiting) {
        waiting = true;
        give();
    }
}

/* A thread back from a wait goes to the head of the line: its request has queued once
 * already. (Letting it run over the limit instead cost a quarter of the throughput under
 * load: the writers back from a group commit then all ran at once.) */
void gate_wait_end(void)
{
    if (waiting) {
        waiting = false;
        take(true);
    }
}

int gate_queued(void)
{
    pthread_mutex_lock(&mu);
    int n = queued;
    pthread_mutex_unlock(&mu);
    return n;
}
