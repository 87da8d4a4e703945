/*
 * gate.h: admission of work into spmigd's request threads. Every connection has its own
 * thread (libmicrohttpd's thread per connection), so a thousand busy clients make a thousand
 * runnable threads; the scheduler then shares the CPU among them all and a thread that others
 * wait for (the one committing a group of writes) waits its turn behind every reader. The
 * gate lets a bounded number of threads run request code at once and queues the others in
 * arrival order (first come, first served), so each request waits for a slot rather than for
 * the scheduler, and writes keep up beside a flood of reads.
 *
 * It owns only the slots; http.c takes one around each call into a listener, and code that
 * waits for something other than the CPU (a long poll, the commit of a group of writes) lets
 * its slot go for the wait. It does not know what a request is.
 */
#ifndef SPMIG_GATE_H
#define SPMIG_GATE_H

/* Sets how many threads may hold a slot at once (at least 1); without it, four per CPU and at
 * least eight. */
void gate_init(int slots);
/* Takes a slot for this thread, waiting in line for one; nested calls only count. */
void gate_enter(void);
/* Gives the thread's slot back (the next in line gets it). */
void gate_leave(void);

/* Around a wait that needs no CPU, inside request code: gives the slot back for the wait
 * and takes one again after it, ahead of the line. A thread without a slot does nothing.
 * The rule that comes with it: a lock held across such a wait (or across db_write_end, which
 * waits so) must be taken inside gate_wait_begin/gate_wait_end, so that the threads blocked
 * on it hold no slot and the holder can always get one back. */
void gate_wait_begin(void);
void gate_wait_end(void);

/* How many threads wait in line for a slot. */
int gate_queued(void);

#endif
