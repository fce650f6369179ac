/* Unit tests for the QMP client on the event loop (harness/machine/qmp.c):
 * the test plays QEMU on the other end of a socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ev.h"
#include "qmp.h"
#include "test_skip.h"

struct fixture {
	struct ev_loop *loop;
	struct qmp *q;
	int qemu; /* the test's end */
	char got[4096];
	size_t got_len;
	int events;
	char last_event[64];
	int closed;
	char closed_why[128];
};

struct reply {
	int calls;
	bool ok;
	char text[512];
	struct fixture *f;
	bool free_client;
};

static void on_event(void *ctx, const char *name, const char *line)
{
	(void)line;
	struct fixture *f = ctx;
	f->events++;
	snprintf(f->last_event, sizeof(f->last_event), "%s", name);
}

static void on_closed(void *ctx, const char *why)
{
	struct fixture *f = ctx;
	f->closed++;
	snprintf(f->closed_why, sizeof(f->closed_why), "%s", why);
}

static void on_reply(void *arg, bool ok, const char *text)
{
	struct reply *r = arg;
	r->calls++;
	r->ok = ok;
	snprintf(r->text, sizeof(r->text), "%s", text);
	if (r->free_client) {
		qmp_free(r->f->q);
		r->f->q = NULL;
	}
}

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	f.loop = ev_loop_new();
	f.qemu = sv[1];
	fcntl(f.qemu, F_SETFL, O_NONBLOCK);
	struct qmp_handlers h = { .event = on_event, .closed = on_closed, .ctx = &f };
	f.q = qmp_new(f.loop, sv[0], &h);
	*state = &f;
	return f.q ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	qmp_free(f->q);
	if (f->qemu >= 0)
		close(f->qemu);
	ev_loop_free(f->loop);
	return 0;
}

static void turns(struct fixture *f, int n)
{
	for (int i = 0; i < n; i++)
		ev_run_once(f->loop, 5);
}

/* What the client sent so far, accumulated. */
static const char *sent(struct fixture *f)
{
	ssize_t n;
	while ((n = read(f->qemu, f->got + f->got_len, sizeof(f->got) - 1 - f->got_len)) > 0)
		f->got_len += (size_t)n;
	f->got[f->got_len] = '\0';
	return f->got;
}

static void qemu_says(struct fixture *f, const char *line)
{
	assert_int_equal(write(f->qemu, line, strlen(line)), (ssize_t)strlen(line));
}

static void negotiate(struct fixture *f)
{
	qemu_says(f, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
	turns(f, 3);
	const char *caps = strstr(sent(f), "\"execute\":\"qmp_capabilities\",\"id\":");
	assert_non_null(caps);
	char reply[64];
	snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %ld}\r\n",
		 strtol(strrchr(caps, ':') + 1, NULL, 10));
	qemu_says(f, reply);
	turns(f, 3);
	assert_true(qmp_ready(f->q));
}

static void test_qmp_request_before_greeting_waits_for_negotiation(void **state)
{
	struct fixture *f = *state;
	struct reply r = { 0 };
	qmp_request(f->q, "cont", NULL, 5000, on_reply, &r);
	turns(f, 3);
	assert_null(strstr(sent(f), "cont"));
	negotiate(f);
	/* Sent after the negotiation, with the id it was given when made. */
	const char *all = sent(f);
	const char *cont = strstr(all, "{\"execute\":\"cont\",\"id\":1}\n");
	assert_non_null(cont);
	assert_true(cont > strstr(all, "qmp_capabilities"));
	assert_int_equal(r.calls, 0);
	qemu_says(f, "{\"return\": {}, \"id\": 1}\r\n");
	turns(f, 3);
	assert_int_equal(r.calls, 1);
	assert_true(r.ok);
}

static void test_qmp_replies_are_matched_by_id_not_order(void **state)
{
	struct fixture *f = *state;
	negotiate(f);
	struct reply a = { 0 }, b = { 0 };
	qmp_request(f->q, "stop", NULL, 5000, on_reply, &a);
	qmp_request(f->q, "set_link", "{\"name\":\"net0\",\"up\":false}", 5000, on_reply, &b);
	turns(f, 2);
	assert_non_null(strstr(sent(f), "\"arguments\":{\"name\":\"net0\",\"up\":false},\"id\":3"));
	qemu_says(f,
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no link\"}, \"id\": 3}\n");
	turns(f, 3);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	assert_false(b.ok);
	assert_non_null(strstr(b.text, "no link"));
	qemu_says(f, "{\"return\": {}, \"id\": 2}\n");
	turns(f, 3);
	assert_int_equal(a.calls, 1);
	assert_true(a.ok);
}

static void test_qmp_events_reach_the_handler_between_replies(void **state)
{
	struct fixture *f = *state;
	negotiate(f);
	struct reply r = { 0 };
	qmp_request(f->q, "system_reset", NULL, 5000, on_reply, &r);
	turns(f, 2);
	qemu_says(f, "{\"timestamp\": {\"seconds\": 1}, \"event\": \"RESET\", \"data\": {}}\n"
		     "{\"return\": {}, \"id\": 2}\n"
		     "{\"timestamp\": {\"seconds\": 1}, \"event\": \"SHUTDOWN\", \"data\": "
		     "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}}\n");
	turns(f, 3);
	assert_int_equal(r.calls, 1);
	assert_int_equal(f->events, 2);
	assert_string_equal(f->last_event, "SHUTDOWN");
}

static void test_qmp_request_without_reply_times_out(void **state)
{
	struct fixture *f = *state;
	negotiate(f);
	struct reply r = { 0 };
	qmp_request(f->q, "cont", NULL, 30, on_reply, &r);
	uint64_t end = ev_clock_ms() + 2000;
	while (!r.calls && ev_clock_ms() < end)
		ev_run_once(f->loop, 10);
	assert_int_equal(r.calls, 1);
	assert_false(r.ok);
	assert_string_equal(r.text, "no reply within 30 ms");
	/* A reply that comes after the timeout is ignored. */
	qemu_says(f, "{\"return\": {}, \"id\": 2}\n");
	turns(f, 3);
	assert_int_equal(r.calls, 1);
}

static void test_qmp_close_fails_pending_requests_then_tells_the_owner(void **state)
{
	struct fixture *f = *state;
	negotiate(f);
	struct reply r = { 0 };
	qmp_request(f->q, "quit", NULL, 5000, on_reply, &r);
	turns(f, 2);
	close(f->qemu);
	f->qemu = -1;
	turns(f, 3);
	assert_int_equal(r.calls, 1);
	assert_false(r.ok);
	assert_string_equal(r.text, "QMP closed");
	assert_int_equal(f->closed, 1);
	/* A request after the close still completes, from the loop. */
	struct reply late = { 0 };
	qmp_request(f->q, "cont", NULL, 5000, on_reply, &late);
	assert_int_equal(late.calls, 0);
	turns(f, 2);
	assert_int_equal(late.calls, 1);
	assert_false(late.ok);
}

static void test_qmp_client_freed_inside_its_reply_callback_is_safe(void **state)
{
	struct fixture *f = *state;
	negotiate(f);
	struct reply r = { .f = f, .free_client = true };
	struct reply other = { 0 };
	qmp_request(f->q, "stop", NULL, 5000, on_reply, &r);
	qmp_request(f->q, "cont", NULL, 5000, on_reply, &other);
	turns(f, 2);
	/* Both replies in one read: the first frees the client. */
	qemu_says(f, "{\"return\": {}, \"id\": 2}\n{\"return\": {}, \"id\": 3}\n");
	turns(f, 3);
	assert_null(f->q);
	assert_int_equal(r.calls, 1);
	assert_int_equal(other.calls, 0); /* dropped with the client, as qmp_free says */
}

static void test_qmp_reply_split_across_reads_is_assembled(void **state)
{
	struct fixture *f = *state;
	negotiate(f);
	struct reply r = { 0 };
	qmp_request(f->q, "cont", NULL, 5000, on_reply, &r);
	turns(f, 2);
	qemu_says(f, "{\"return\": {},");
	turns(f, 2);
	assert_int_equal(r.calls, 0);
	qemu_says(f, " \"id\": 2}\n");
	turns(f, 2);
	assert_int_equal(r.calls, 1);
	assert_true(r.ok);
}

static void test_qmp_json_string_reads_escaped_values(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(
		qmp_json_string("{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": \"gu\\\"est\"}}",
				"reason", out, sizeof(out)),
		0);
	assert_string_equal(out, "gu\"est");
	assert_int_equal(qmp_json_string("{\"id\": 3}", "id", out, sizeof(out)), -1);
	assert_int_equal(qmp_json_string("{}", "reason", out, sizeof(out)), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_qmp_request_before_greeting_waits_for_negotiation),
		T(test_qmp_replies_are_matched_by_id_not_order),
		T(test_qmp_events_reach_the_handler_between_replies),
		T(test_qmp_request_without_reply_times_out),
		T(test_qmp_close_fails_pending_requests_then_tells_the_owner),
		T(test_qmp_client_freed_inside_its_reply_callback_is_safe),
		T(test_qmp_reply_split_across_reads_is_assembled),
		T(test_qmp_json_string_reads_escaped_values),
	};
	return vh_run_tests(tests, NULL, NULL);
}
