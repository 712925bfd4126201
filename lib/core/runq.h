/* runq.h: the one queue every filter's calls go through: -P at a time, first in first out, and an interrupt that starts nothing more. */
#ifndef AMICYCLE_RUNQ_H
#define AMICYCLE_RUNQ_H

/*
 * A gate that tasks wait behind, in their places in the queue, until it opens. deregister holds
 * a region's calls behind one until the region's first call has answered.
 */
struct runq_gate {
	int	 open;
};

/*
 * Something to do that takes a slot: an EC2 call (with its retries and pages), an SSH probe.
 * The owner fills in start and interrupted (and gate, if any) and keeps the task alive until
 * one of the two has run and the task has ended.
 */
struct runq_task {
	/* Begins the work; whoever finishes it calls runq_end(). It may run runq_add(). */
	void			(*start)(struct runq_task *);
	/* The task was never started: an interrupt came first. It must not call runq_end(). */
	void			(*interrupted)(struct runq_task *);
	struct runq_gate	*gate;		/* NULL, or what it waits behind */
	/* private */
	struct runq_task	*next;
};

struct runq;

/* A queue that runs at most max tasks at once (max < 1 counts as 1). */
struct runq	*runq_new(int max);
void		 runq_free(struct runq *);

/*
 * Queues t at the end and starts what may start (runq_pump()). Tasks start in the order they
 * were added, except that a task behind a closed gate lets those after it go first.
 */
void	runq_add(struct runq *, struct runq_task *t);

/* A started task is over: its slot is free for the next (runq_pump()). */
void	runq_end(struct runq *);

/* Opens gate: the tasks behind it may start. */
void	runq_open(struct runq *, struct runq_gate *gate);

/*
 * Starts queued tasks while fewer than max run. Once a signal has come (intr_signal()), starts
 * none: every queued task is taken out and handed to its interrupted(), in queue order; those
 * running finish. Safe to call from a task's start() or interrupted(): the outer call goes on.
 */
void	runq_pump(struct runq *);

/*
 * Makes the queue a cleanup's: an interrupt does not stop it, every queued task still starts
 * (ec2-terminate: a test instance left running costs money and keeps a door open). A second
 * signal still ends the program at once (intr_catch()).
 */
void	runq_finish_queued(struct runq *);

/* Tasks queued, not yet started. */
int	runq_queued(const struct runq *);

#endif
