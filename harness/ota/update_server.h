/* The OTA update server (docs/ota-protocol.md "Update server"): HTTP/1.1 via
 * libmicrohttpd, driven by the harness's ev loop with no thread of its own
 * (MHD's epoll fd sits in the loop; MHD_run runs on its readiness and on a
 * timer from MHD_get_timeout).
 *
 *   GET /checkin?device=D&version=V&slot=S  200, chunked, kept open: one
 *       "heartbeat seq=N\n" at once (N = 0) and every second after, and
 *       "offer version=V size=B sha256=H url=/firmware/V.bundle\n" whenever a
 *       version other than the device's is published (at once to open
 *       check-ins, and on every new check-in while it stays published).
 *       The path and lines are wire/checkin.h's; a query it rejects gets
 *       400 and no check-in.
 *   GET|HEAD /firmware/V.bundle  the published bundle; Range bytes=A- and
 *       bytes=A-B (206 + Content-Range), 416 when unsatisfiable.
 *   GET|HEAD <url path>  a file given to update_server_serve, as it is on
 *       disk at request time, with the same Range rules (404 once the file
 *       is gone). Served paths take precedence over /firmware/.
 *   anything else: 404 (405 for methods other than GET/HEAD).
 *
 * Events (on_event, called synchronously on the loop's thread; kv is a
 * NULL-terminated list of key, value, key, value ...; all strings are valid
 * only during the call):
 *   "http_connect"    conn peer
 *   "http_request"    conn peer method path range status bytes result
 *                     (at completion; path without the query; bytes = body
 *                     bytes handed to the socket layer; result = ok|
 *                     client_gone|timeout|error|server_down)
 *   "http_disconnect" conn peer
 *   "checkin"         conn device version slot
 *   "offer"           conn device version size bucket
 *   "held_back"       conn device version bucket (a check-in outside the
 *                     staged rollout: no offer)
 * on_event must not call update_server_free; the other calls are safe. */
#ifndef VH_UPDATE_SERVER_H
#define VH_UPDATE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct update_server;

#define UPDATE_SERVER_DEFAULT_PORT 8080u
#define UPDATE_SERVER_HEARTBEAT_MS 1000u

typedef void (*update_server_event_fn)(void *ctx, const char *event, const char *const *kv);

/* Starts a server listening on bind_ip:port (IPv4 dotted quad; port 0 picks a
 * free port, see update_server_port) with its sockets on loop. on_event may
 * be NULL. Returns 0 and *out, or a negative errno with a message in err. */
int update_server_new(struct ev_loop *loop, const char *bind_ip, uint16_t port,
		      update_server_event_fn on_event, void *ctx, struct update_server **out,
		      char *err, size_t errlen);

/* The port actually bound (useful after port 0). */
uint16_t update_server_port(const struct update_server *s);

/* Publishes the bundle file at bundle_path as version (which must match the
 * bundle header's version), replacing any earlier publication. Reads its
 * size and the header's payload sha256 now; the file must stay in place
 * while published. Offers go out at once to every open check-in whose
 * device runs another version and is in a staged rollout of percent
 * (0-100, rollout.h; ROLLOUT_ALL for everyone). Returns 0 or a negative
 * errno with a message in err. */
int update_server_publish(struct update_server *s, const char *version, const char *bundle_path,
			  unsigned percent, char *err, size_t errlen);

/* Widens (or narrows) the rollout of what is published to percent: open
 * check-ins that it newly takes in get their offer at once; narrowing only
 * stops offers to later check-ins of the devices it leaves out. 0, or
 * -ENOENT (nothing published) / -EINVAL with a message in err. */
int update_server_set_rollout(struct update_server *s, unsigned percent, char *err, size_t errlen);

/* Serves the host file host_path at url_path (which starts with '/'; not
 * /checkin) to GET and HEAD, with Range, replacing what that path served;
 * host_path NULL stops serving it. The file is opened per request, so it may
 * be replaced while served. Up to 16 paths. Returns 0 or a negative errno
 * with a message in err. */
int update_server_serve(struct update_server *s, const char *url_path, const char *host_path,
			char *err, size_t errlen);

/* Withdraws the publication: no more offers, /firmware/ answers 404. */
void update_server_unpublish(struct update_server *s);

/* down = true: closes every open connection and the listening socket, so new
 * connections are refused (ECONNREFUSED) until set_down(false) listens on the
 * same address again. Returns 0 or a negative errno (with message) when the
 * server cannot listen again; it then stays down. */
int update_server_set_down(struct update_server *s, bool down, char *err, size_t errlen);

/* True while the server is down. */
bool update_server_is_down(const struct update_server *s);

/* Parses a Range header value against a body of size bytes. Returns 0 to
 * send the whole body (no header, or a form we may ignore: other units,
 * several ranges), 1 for one satisfiable range [*first, *last], -1 for an
 * unsatisfiable or malformed byte range (416). Pure. */
int update_server_parse_range(const char *value, uint64_t size, uint64_t *first, uint64_t *last);

/* Closes all connections (each reported as usual) and frees the server.
 * NULL is ignored. Must not be called from on_event. */
void update_server_free(struct update_server *s);

#endif
