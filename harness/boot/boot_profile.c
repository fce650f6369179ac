/* The profile registry, options, the recorded env access the profiles use
 * and the power-on driver; see boot_profile.h. */
#include "boot_profile.h"
#include "boot_rules.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errf.h"

const struct boot_profile *const boot_profiles[] = {
	&boot_profile_uboot_bootcount, &boot_profile_mender,   &boot_profile_rauc,
	&boot_profile_nerves,	       &boot_profile_swupdate, NULL,
};

const struct boot_profile *boot_profile_find(const char *name)
{
	for (size_t i = 0; boot_profiles[i]; i++)
		if (strcmp(boot_profiles[i]->name, name) == 0)
			return boot_profiles[i];
	return NULL;
}

static const struct boot_option *boot_option_find(const struct boot_profile *p, const char *name)
{
	for (const struct boot_option *o = p->options; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

void boot_cfg_init(struct boot_profile_cfg *cfg, const struct boot_profile *profile)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->profile = profile;
}

static bool boot_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Why value is not of kind, or NULL when it is. */
static const char *boot_option_invalid(enum boot_option_kind kind, const char *value)
{
	if (!boot_printable(value))
		return "control characters";
	switch (kind) {
	case BOOT_OPT_VAR:
		if (!*value || strchr(value, '=') || strchr(value, ' '))
			return "not a variable name (empty, '=' or a space)";
		if (strlen(value) >= BOOT_VAR_NAME_MAX - 12) /* room for "BOOT_" "_LEFT" */
			return "too long";
		break;
	case BOOT_OPT_WORD:
		if (!*value || strchr(value, ' '))
			return "empty or holds a space";
		break;
	case BOOT_OPT_TEXT:
		break;
	case BOOT_OPT_UINT:
		if (!*value || strlen(value) > 9 || value[strspn(value, "0123456789")])
			return "not a decimal number up to 999999999";
		break;
	}
	return NULL;
}

int boot_cfg_set(struct boot_profile_cfg *cfg, const char *name, const char *value, char *err,
		 size_t errlen)
{
	const struct boot_option *o = boot_option_find(cfg->profile, name);
	if (!o) {
		errf(err, errlen, "bootloader profile %s has no option '%s'", cfg->profile->name,
		     name);
		return -EINVAL;
	}
	const char *bad = boot_option_invalid(o->kind, value);
	if (!bad && strlen(value) >= sizeof(cfg->set[0].value))
		bad = "too long";
	if (bad) {
		errf(err, errlen, "bootloader profile %s: %s='%s': %s", cfg->profile->name, name,
		     value, bad);
		return -EINVAL;
	}
	size_t i = 0;
	while (i < cfg->n && strcmp(cfg->set[i].name, name) != 0)
		i++;
	if (i == cfg->n) {
		if (cfg->n == BOOT_CFG_MAX) {
			errf(err, errlen, "bootloader profile %s: more than %d options",
			     cfg->profile->name, BOOT_CFG_MAX);
			return -ENOSPC;
		}
		cfg->n++;
	}
	snprintf(cfg->set[i].name, sizeof(cfg->set[i].name), "%s", name);
	snprintf(cfg->set[i].value, sizeof(cfg->set[i].value), "%s", value);
	return 0;
}

const char *boot_cfg_get(const struct boot_profile_cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->set[i].name, name) == 0)
			return cfg->set[i].value;
	const struct boot_option *o = boot_option_find(cfg->profile, name);
	return o && o->def ? o->def : "";
}

unsigned long boot_cfg_uint(const struct boot_profile_cfg *cfg, const char *name)
{
	unsigned long v = 0;
	for (const char *s = boot_cfg_get(cfg, name); *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

int boot_cfg_check(const struct boot_profile_cfg *cfg, char *err, size_t errlen)
{
	for (const struct boot_option *o = cfg->profile->options; o && o->name; o++) {
		if (o->def)
			continue;
		bool set = false;
		for (size_t i = 0; i < cfg->n; i++)
			set |= strcmp(cfg->set[i].name, o->name) == 0;
		if (!set) {
			errf(err, errlen, "bootloader profile %s needs option %s: %s",
			     cfg->profile->name, o->name, o->doc);
			return -EINVAL;
		}
	}
	return cfg->profile->check ? cfg->profile->check(cfg, err, errlen) : 0;
}

void boot_decision_init(struct boot_decision *d, const struct boot_profile *profile)
{
	memset(d, 0, sizeof(*d));
	d->profile = profile->name;
	d->action = BOOT_ACTION_HALT;
	d->slot = -1;
	d->rollback_from = -1;
	d->bootcount = -1;
	d->bootlimit = -1;
}

int boot_profile_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			struct boot_decision *d)
{
	boot_decision_init(d, cfg->profile);
	return cfg->profile->choose(cfg, env, d);
}

int boot_profile_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			  struct boot_decision *d)
{
	int rc = cfg->profile->fallback(cfg, env, d);
	d->fallbacks++;
	return rc;
}

/* Copies s into a value field, marking a cut with "...". */
static void boot_var_copy(char *dst, const char *s)
{
	size_t n = strlen(s);
	if (n < BOOT_VAR_VALUE_MAX) {
		memcpy(dst, s, n + 1);
		return;
	}
	memcpy(dst, s, BOOT_VAR_VALUE_MAX - 4);
	memcpy(dst + BOOT_VAR_VALUE_MAX - 4, "...", 4);
}

const struct boot_var *boot_decision_var(const struct boot_decision *d, const char *name)
{
	for (size_t i = 0; i < d->nvars; i++)
		if (strcmp(d->vars[i].name, name) == 0)
			return &d->vars[i];
	return NULL;
}

/* The record of name in d, made at its first touch with its value then;
 * NULL once the array is full (vars_overflow says so). */
static struct boot_var *boot_touch(struct boot_decision *d, const struct ubootenv *env,
				   const char *name)
{
	struct boot_var *v = (struct boot_var *)boot_decision_var(d, name);
	if (v)
		return v;
	if (d->nvars == BOOT_VARS_MAX) {
		d->vars_overflow = true;
		return NULL;
	}
	v = &d->vars[d->nvars++];
	snprintf(v->name, sizeof(v->name), "%s", name);
	const char *cur = ubootenv_get(env, name);
	v->had_old = v->has_new = cur != NULL;
	boot_var_copy(v->old, cur ? cur : "");
	boot_var_copy(v->new, cur ? cur : "");
	return v;
}

const char *boot_get(struct boot_decision *d, const struct ubootenv *env, const char *name)
{
	boot_touch(d, env, name);
	return ubootenv_get(env, name);
}

int boot_put(struct boot_decision *d, struct ubootenv *env, const char *name, const char *value)
{
	struct boot_var *v = boot_touch(d, env, name);
	const char *cur = ubootenv_get(env, name);
	if ((!cur && !value) || (cur && value && strcmp(cur, value) == 0))
		return 0;
	int rc = ubootenv_set(env, name, value);
	if (rc < 0)
		return rc;
	d->env_changed = true;
	if (v) {
		v->has_new = value != NULL;
		boot_var_copy(v->new, value ? value : "");
		/* back to where it started (a write then its undo) is no change */
		v->written = v->has_new != v->had_old || strcmp(v->new, v->old) != 0;
	}
	return 0;
}

int boot_put_u64(struct boot_decision *d, struct ubootenv *env, const char *name, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return boot_put(d, env, name, buf);
}

static void boot_vappend(char *buf, size_t size, const char *sep, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);
	char piece[512];
	vsnprintf(piece, sizeof(piece), fmt, ap);
	if (!piece[0] || len + 1 >= size)
		return;
	snprintf(buf + len, size - len, "%s%s", len ? sep : "", piece);
}

void boot_why(struct boot_decision *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	boot_vappend(d->why, sizeof(d->why), "; ", fmt, ap);
	va_end(ap);
}

void boot_arg(struct boot_decision *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	boot_vappend(d->kernel_args, sizeof(d->kernel_args), " ", fmt, ap);
	va_end(ap);
}

void boot_pick(struct boot_decision *d, int slot, const char *name)
{
	d->action = BOOT_ACTION_BOOT;
	d->slot = slot;
	snprintf(d->slot_name, sizeof(d->slot_name), "%s", name);
}

static void boot_stop(struct boot_decision *d, enum boot_action action, const char *fmt, va_list ap)
{
	d->action = action;
	d->slot = -1;
	d->slot_name[0] = '\0';
	d->trial = false;
	boot_vappend(d->why, sizeof(d->why), "; ", fmt, ap);
}

void boot_reset(struct boot_decision *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	boot_stop(d, BOOT_ACTION_RESET, fmt, ap);
	va_end(ap);
}

void boot_halt(struct boot_decision *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	boot_stop(d, BOOT_ACTION_HALT, fmt, ap);
	va_end(ap);
}

const char *boot_show(const char *s)
{
	return s ? s : "(unset)";
}

/* A fallback that hands back slots forever would hang the power-on; no
 * profile here does more than one per slot, so this is a safety net. */
#define BOOT_MAX_FALLBACKS 8

int boot_power_on(const struct boot_profile_cfg *cfg, struct ubootenv *env,
		  boot_bootable_fn bootable, boot_pass_fn on_pass, void *ctx,
		  struct boot_outcome *out)
{
	memset(out, 0, sizeof(*out));
	struct boot_decision *d = &out->decision;
	for (;;) {
		int rc = boot_profile_choose(cfg, env, d);
		if (rc < 0)
			return rc;
		out->passes++;
		while (d->action == BOOT_ACTION_BOOT && !bootable(d->slot, d->slot_name, ctx)) {
			if (d->slot >= 0 && d->slot < BOOT_SLOTS)
				out->unbootable[d->slot] = true;
			if (d->fallbacks == BOOT_MAX_FALLBACKS) {
				boot_halt(d, "gave up after %d unbootable slots", d->fallbacks);
				break;
			}
			if ((rc = boot_profile_fallback(cfg, env, d)) < 0)
				return rc;
		}
		out->env_changed |= d->env_changed;
		bool again = d->action == BOOT_ACTION_RESET;
		if (again && out->passes == BOOT_MAX_PASSES) {
			boot_halt(d, "reset loop: still resetting after %d bootloader runs",
				  out->passes);
			out->reset_loop = true;
			again = false;
		}
		if (on_pass)
			on_pass(d, ctx);
		if (!again)
			return 0;
	}
}

int boot_decision_describe(const struct boot_decision *d, char *buf, size_t len)
{
	static const char *const actions[] = { "boot", "reset", "halt" };
	char vars[BOOT_VARS_MAX * (BOOT_VAR_NAME_MAX + 2 * BOOT_VAR_VALUE_MAX + 16)];
	size_t used = 0;
	vars[0] = '\0';
	for (size_t i = 0; i < d->nvars && used < sizeof(vars); i++) {
		const struct boot_var *v = &d->vars[i];
		int n;
		if (v->written)
			n = snprintf(vars + used, sizeof(vars) - used, " %s=%s->%s", v->name,
				     v->had_old ? v->old : "(unset)",
				     v->has_new ? v->new : "(unset)");
		else
			n = snprintf(vars + used, sizeof(vars) - used, " %s=%s", v->name,
				     v->had_old ? v->old : "(unset)");
		if (n < 0)
			break;
		used += (size_t)n;
	}
	char slot[48] = "";
	if (d->action == BOOT_ACTION_BOOT)
		snprintf(slot, sizeof(slot), " slot %d (%s)", d->slot, d->slot_name);
	return snprintf(buf, len, "%s: %s%s%s%s%s;%s%s; why: %s", d->profile, actions[d->action],
			slot, d->trial ? " trial" : "", d->rolled_back ? " rolled back" : "",
			d->env_changed ? " env changed" : "", vars, d->vars_overflow ? " ..." : "",
			d->why);
}
