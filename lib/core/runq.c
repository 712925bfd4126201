/* runq.c: the one queue every filter's calls go through: -P at a time, first in first out, and an interrupt that starts nothing more. */
#include <stdlib.h>

#include "interrupt.h"
#include "runq.h"
#include "util.h"

struct runq {
	int			 max;
	int			 running;
	int			 queued;
	struct runq_task	*head, **tail;
	int			 pumping;	/* inside runq_pump() */
	int			 again;		/* pump once more: something changed meanwhile */
	int			 finish;	/* a cleanup: queued tasks start even after a signal */
};

struct runq *
runq_new(int max)
{
	struct runq *s = xcalloc(1, sizeof(*s));

	s->max = max > 0 ? max : 1;
	s->tail = &s->head;
	return s;
}

void
runq_free(struct runq *s)
{
	free(s);
}

void
runq_add(struct runq *s, struct runq_task *t)
{
	t->next = NULL;
	*s->tail = t;
	s->tail = &t->next;
	s->queued++;
	runq_pump(s);
}

void
runq_end(struct runq *s)
{
	s->running--;
	runq_pump(s);
}

void
runq_open(struct runq *s, struct runq_gate *g)
{
	g->open = 1;
	runq_pump(s);
}

/* Takes the first task that may start out of the queue, or NULL. */
static struct runq_task *
take(struct runq *s, int any)
{
	struct runq_task **tp, *t;

	for (tp = &s->head; (t = *tp) != NULL; tp = &t->next)
		if (any || t->gate == NULL || t->gate->open) {
			if ((*tp = t->next) == NULL)
				s->tail = tp;
			t->next = NULL;
			s->queued--;
			return t;
		}
	return NULL;
}

void
runq_pump(struct runq *s)
{
	struct runq_task *t;

	/* A task's start() may end at once (a call refused before it is sent) and pump again. */
	if (s->pumping) {
		s->again = 1;
		return;
	}
	s->pumping = 1;
	do {
		s->again = 0;
		if (intr_signal() && !s->finish) {
			while ((t = take(s, 1)) != NULL)
				t->interrupted(t);
			continue;
		}
		while (s->running < s->max && (t = take(s, 0)) != NULL) {
			s->running++;
			t->start(t);
		}
	} while (s->again);
	s->pumping = 0;
}

void
runq_finish_queued(struct runq *s)
{
	s->finish = 1;
}

int
runq_queued(const struct runq *s)
{
	return s->queued;
}
