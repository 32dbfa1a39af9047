#!/bin/sh
# cnm's entry point in the managed (v2) plugin; Docker runs it as the plugin's first process, in the host's
# network namespace. Docker mounts /proc/sys and /sys read-only in a plugin, but cnm sets net sysctls
# (ip_forward, route_localnet, per-link settings) and bridge-port flags of that namespace: with the
# CAP_SYS_ADMIN the plugin is granted, make those two mounts writable, then become the daemon.
# The plugin's settings arrive as environment (CNM_LOG_LEVEL, CNM_STORE, ...) and as extra daemon
# arguments (`docker plugin set cnm args="--dns-upstream 10.0.0.53"`), never through a shell string.
set -eu
/bin/busybox mount -o remount,bind,rw /proc/sys
/bin/busybox mount -o remount,rw /sys
exec /usr/bin/node /cnm/dist/cnm.js --state-dir /var/lib/cnm daemon --socket /run/docker/plugins/cnm.sock "$@"
