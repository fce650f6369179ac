/* Staged rollouts: which devices the update server offers a release to.
 *
 * A device's bucket (0-99) is a hash of its name and the release's version,
 * the way phased updates pick their share of a fleet (Ubuntu's phased
 * updates hash the machine id with the package): stable across runs and
 * check-ins, so widening a rollout from 10% to 50% keeps the first 10% in,
 * and each release picks a different first 10%. A device is in a rollout
 * of P percent when its bucket is below P. Pure. */
#ifndef VH_ROLLOUT_H
#define VH_ROLLOUT_H

#include <stdbool.h>

#define ROLLOUT_ALL 100u

unsigned rollout_bucket(const char *device, const char *version);
bool rollout_includes(const char *device, const char *version, unsigned percent);

#endif
