/*
 * test_gate.c: unit tests of server/core/gate.c: no more threads hold a slot than there are
 * slots; waiters get theirs in the order they came; a slot let go for a wait serves another
 * thread meanwhile; nested entries count as one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

#define THREADS 12

static atomic_int inside, most;
static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;
static int order[THREADS], norder;

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void *busy(void *arg)
{
    int id = (int)(intptr_t)arg;
    gate_enter();
    pthread_mutex_lock(&order_mu);
    order[norder++] = id;
    pthread_mutex_unlock(&order_mu);
    int now = atomic_fetch_add(&inside, 1) + 1;
    int seen = atomic_load(&most);
    while (now > seen && !atomic_compare_exchange_weak(&most, &seen, now))
        ;
    pause_ms(5);
    atomic_fetch_sub(&inside, 1);
    gate_leave();
    return NULL;
}

/* Threads started one after the other, while the only slot is held, get it in that order,
 * and never two at once. */
static void test_bound_and_order(void **state)
{
    (void)state;
    gate_init(1);
    atomic_store(&most, 0);
    norder = 0;
    gate_enter(); /* hold the slot until everyone waits */
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, busy, (void *)(intptr_t)i), 0);
        while (gate_queued() < i + 1) /* in line before the next one starts */
            pause_ms(1);
    }
    gate_leave();
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&most), 1);
    assert_int_equal(norder, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(order[i], i);
}

static void test_several_slots(void **state)
{
    (void)state;
    gate_init(3);
    atomic_store(&most, 0);
    norder = 0;
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, busy, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_true(atomic_load(&most) <= 3);
    assert_true(atomic_load(&most) >= 1);
}

static atomic_bool other_ran;

static void *other(void *arg)
{
    (void)arg;
    gate_enter();
    atomic_store(&other_ran, true);
    gate_leave();
    return NULL;
}

/* A thread that waits for something else lets its slot serve others meanwhile; nested entries
 * hold one slot. */
static void test_wait_frees_the_slot(void **state)
{
    (void)state;
    gate_init(1);
    atomic_store(&other_ran, false);
    gate_enter();
    gate_enter(); /* nested: still one slot */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, other, NULL), 0);
    pause_ms(30);
    assert_false(atomic_load(&other_ran)); /* the only slot is held */
    gate_wait_begin();
    for (int i = 0; i < 200 && !atomic_load(&other_ran); i++)
        pause_ms(5);
    assert_true(atomic_load(&other_ran));
    gate_wait_end();
    gate_leave();
    gate_leave();
    pthread_join(th, NULL);
    /* Without a slot, a wait gives nothing back and takes nothing. */
    gate_wait_begin();
    gate_wait_end();
    gate_enter();
    gate_leave();
}

static atomic_bool back, saw_back;

static void *after(void *arg)
{
    (void)arg;
    gate_enter();
    atomic_store(&saw_back, atomic_load(&back));
    gate_leave();
    return NULL;
}

static void *returner(void *arg)
{
    (void)arg;
    gate_enter();
    gate_wait_begin();
    while (gate_queued() < 1) /* someone queues while this one waits */
        pause_ms(1);
    gate_wait_end();
    atomic_store(&back, true);
    gate_leave();
    return NULL;
}

/* Back from a wait, a thread goes to the head of the line, before those who came meanwhile. */
static void test_back_from_a_wait_goes_first(void **state)
{
    (void)state;
    gate_init(1);
    atomic_store(&back, false);
    atomic_store(&saw_back, false);
    gate_enter(); /* the only slot */
    pthread_t r, q;
    assert_int_equal(pthread_create(&r, NULL, returner, NULL), 0); /* queued first */
    while (gate_queued() < 1)
        pause_ms(1);
    gate_leave(); /* r runs, then waits without its slot, which this thread takes again */
    gate_enter();
    assert_int_equal(pthread_create(&q, NULL, after, NULL), 0); /* queues */
    while (gate_queued() < 2) /* q, then r back from its wait, ahead of q */
        pause_ms(1);
    gate_leave();
    pthread_join(r, NULL);
    pthread_join(q, NULL);
    assert_true(atomic_load(&back));
    assert_true(atomic_load(&saw_back)); /* r went before q, who had come first */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_and_order),
        cmocka_unit_test(test_several_slots),
        cmocka_unit_test(test_wait_frees_the_slot),
        cmocka_unit_test(test_back_from_a_wait_goes_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
