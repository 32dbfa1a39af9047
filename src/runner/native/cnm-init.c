/*
 * cnm-init: the container process launcher for `cnm run`.
 *
 * Node cannot fork, and unshare(CLONE_NEWNS|CLONE_NEWPID) fails in a multithreaded process, so this small
 * single-threaded program does the namespace work. It is always exec'd with an argv built by src/runner/init-args.ts
 * (never through a shell). Two processes result:
 *
 *   monitor (host PID ns, host mount ns): joins the sandbox netns, unshares the PID ns, forks, forwards signals to
 *     the child, writes the child's status to --status-file and exits with it (128+signal when killed).
 *   child (PID 1 of the new PID ns): joins the cgroups, unshares mount/UTS/IPC, mounts the overlay rootfs, /proc,
 *     /sys (read-only) and a minimal /dev, bind-mounts the container's /etc/hosts, /etc/hostname and
 *     /etc/resolv.conf (--etc DIR), sets the hostname, pivot_root()s into the rootfs, detaches the old root,
 *     drops to --user UID:GID, chdir()s to the workdir, sets the environment and execs the command.
 *
 * The monitor keeps the host mount ns, so the overlay and every other mount exist only in the child's private mount
 * ns and vanish with it: nothing can be left mounted on the host.
 *
 * Start-up report on fd 3 (when open): "started <child host pid>\n" once exec succeeded, or
 * "error <code> <message>\n" when setup or exec failed (code 127: command not found, 126: not executable,
 * 125: setup failed). Setup errors travel from child to monitor through a close-on-exec pipe: EOF without data
 * means the exec succeeded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ITEMS 256

struct spec {
  const char *netns, *upper, *work, *rootfs, *hostname, *workdir, *status_file, *etc_dir, *user;
  const char *layers[MAX_ITEMS];
  int nlayers;
  const char *cgroups[MAX_ITEMS];
  int ncgroups;
  char *env[MAX_ITEMS + 1];
  int nenv;
  char **argv;
};

static int sync_fd = -1; /* child: write end of the error pipe */

/* Child-side failure: send "<code> <message>" to the monitor and exit. */
static void fail(int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (sync_fd >= 0) {
    dprintf(sync_fd, "%d %s", code, msg);
  } else {
    fprintf(stderr, "cnm-init: %s\n", msg);
  }
  _exit(code);
}

static void die_usage(const char *msg, const char *arg) {
  fprintf(stderr, "cnm-init: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  dprintf(3, "error 125 %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  exit(125);
}

static void parse(int argc, char **argv, struct spec *s) {
  memset(s, 0, sizeof *s);
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) { i++; break; }
    if (i + 1 >= argc) die_usage("option needs a value", a);
    const char *v = argv[++i];
    if (strcmp(a, "--netns") == 0) s->netns = v;
    else if (strcmp(a, "--layer") == 0) { if (s->nlayers == MAX_ITEMS) die_usage("too many layers", v); s->layers[s->nlayers++] = v; }
    else if (strcmp(a, "--cgroup") == 0) { if (s->ncgroups == MAX_ITEMS) die_usage("too many cgroups", v); s->cgroups[s->ncgroups++] = v; }
    else if (strcmp(a, "--env") == 0) { if (s->nenv == MAX_ITEMS) die_usage("too many env", v); s->env[s->nenv++] = (char *)v; }
    else if (strcmp(a, "--upper") == 0) s->upper = v;
    else if (strcmp(a, "--work") == 0) s->work = v;
    else if (strcmp(a, "--rootfs") == 0) s->rootfs = v;
    else if (strcmp(a, "--hostname") == 0) s->hostname = v;
    else if (strcmp(a, "--workdir") == 0) s->workdir = v;
    else if (strcmp(a, "--status-file") == 0) s->status_file = v;
    else if (strcmp(a, "--etc") == 0) s->etc_dir = v;
    else if (strcmp(a, "--user") == 0) s->user = v;
    else die_usage("unknown option", a);
  }
  if (i >= argc) die_usage("missing command after --", NULL);
  if (!s->upper || !s->work || !s->rootfs || s->nlayers == 0) die_usage("--layer, --upper, --work and --rootfs are required", NULL);
  s->argv = &argv[i];
  s->env[s->nenv] = NULL;
}

/* snprintf into a path buffer; a truncated path would mount or create the wrong thing, so it is an error. */
#define PATHF(buf, ...) \
  do { \
    int n_ = snprintf(buf, sizeof buf, __VA_ARGS__); \
    if (n_ < 0 || n_ >= (int)sizeof buf) fail(125, "path too long: %s", buf); \
  } while (0)

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(125, "open %s: %s", path, strerror(errno));
  if (write(fd, text, strlen(text)) < 0) fail(125, "write %s to %s: %s", text, path, strerror(errno));
  close(fd);
}

static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  if (mount(src, dst, type, flags, data) < 0) fail(125, "mount %s on %s: %s", type ? type : src, dst, strerror(errno));
}

static void mkdir_p(const char *path, mode_t mode) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) fail(125, "path too long: %s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, mode) < 0 && errno != EEXIST) fail(125, "mkdir %s: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST) fail(125, "mkdir %s: %s", buf, strerror(errno));
}

/* A minimal /dev like Docker's: tmpfs with bind-mounted host device nodes, devpts, shm and the usual links. */
static void setup_dev(const char *root) {
  static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
  char dev[4096], path[4200];
  PATHF(dev, "%s/dev", root);
  mkdir_p(dev, 0755);
  do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
    char host[64];
    PATHF(host, "/dev/%s", nodes[i]);
    PATHF(path, "%s/%s", dev, nodes[i]);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) fail(125, "create %s: %s", path, strerror(errno));
    close(fd);
    do_mount(host, path, NULL, MS_BIND, NULL);
  }
  PATHF(path, "%s/pts", dev);
  mkdir_p(path, 0755);
  do_mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
  PATHF(path, "%s/shm", dev);
  mkdir_p(path, 01777);
  do_mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
  static const char *links[][2] = {
      {"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    PATHF(path, "%s/%s", dev, links[i][1]);
    if (symlink(links[i][0], path) < 0) fail(125, "symlink %s: %s", path, strerror(errno));
  }
}

/*
 * The container's /etc files, made by cnm in its own dir, bind-mounted over the image's: a missing file (or /etc) is
 * created in the overlay's upper dir, and a symlink there is replaced first (a bind mount would follow it, and an
 * absolute link resolves on the host). The layers are never written.
 */
static void bind_etc(const struct spec *s) {
  static const char *files[] = {"hosts", "hostname", "resolv.conf"};
  char etc[4200], src[4096], dst[4300];
  struct stat st;
  PATHF(etc, "%s/etc", s->rootfs);
  if (lstat(etc, &st) == 0 && !S_ISDIR(st.st_mode)) fail(125, "/etc in the container's root file system is not a directory");
  mkdir_p(etc, 0755);
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    PATHF(src, "%s/%s", s->etc_dir, files[i]);
    if (access(src, F_OK) != 0) continue;
    PATHF(dst, "%s/%s", etc, files[i]);
    if (lstat(dst, &st) == 0 && !S_ISREG(st.st_mode) && unlink(dst) < 0) fail(125, "replace /etc/%s: %s", files[i], strerror(errno));
    int fd = open(dst, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) fail(125, "create /etc/%s: %s", files[i], strerror(errno));
    close(fd);
    do_mount(src, dst, NULL, MS_BIND, NULL);
  }
}

/* --user UID:GID, numeric (cnm resolves names from the container's /etc/passwd): no supplementary groups. */
static void drop_to_user(const char *user) {
  unsigned long uid, gid;
  char rest;
  if (sscanf(user, "%lu:%lu%c", &uid, &gid, &rest) != 2) fail(125, "--user %s is not UID:GID", user);
  if (setgroups(0, NULL) < 0) fail(125, "setgroups: %s", strerror(errno));
  if (setgid((gid_t)gid) < 0) fail(125, "setgid %lu: %s", gid, strerror(errno));
  if (setuid((uid_t)uid) < 0) fail(125, "setuid %lu: %s", uid, strerror(errno));
}

static void setup_rootfs(const struct spec *s) {
  /* lowerdir lists the top layer first; the CLI gives layers lowest first. */
  char opts[16384];
  size_t n = 0;
  n += snprintf(opts + n, sizeof opts - n, "lowerdir=");
  for (int i = s->nlayers - 1; i >= 0 && n < sizeof opts; i--)
    n += snprintf(opts + n, sizeof opts - n, "%s%s", s->layers[i], i > 0 ? ":" : "");
  if (n < sizeof opts) n += snprintf(opts + n, sizeof opts - n, ",upperdir=%s,workdir=%s", s->upper, s->work);
  if (n >= sizeof opts) fail(125, "overlay options too long");
  /* Private first: nothing mounted below may propagate back to the host. */
  do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  do_mount("overlay", s->rootfs, "overlay", 0, opts);
  char path[4096];
  PATHF(path, "%s/proc", s->rootfs);
  mkdir_p(path, 0555);
  do_mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  PATHF(path, "%s/sys", s->rootfs);
  mkdir_p(path, 0555);
  do_mount("sysfs", path, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
  setup_dev(s->rootfs);
  if (s->etc_dir) bind_etc(s);
}

/* pivot_root(".", "."): the old root ends up stacked on the new one and is detached right away (runc's trick). */
static void enter_rootfs(const char *rootfs) {
  if (chdir(rootfs) < 0) fail(125, "chdir %s: %s", rootfs, strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail(125, "pivot_root %s: %s", rootfs, strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) fail(125, "detach old root: %s", strerror(errno));
  if (chdir("/") < 0) fail(125, "chdir /: %s", strerror(errno));
}

static void set_env(const struct spec *s) {
  clearenv();
  setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  setenv("HOME", "/root", 1);
  if (s->hostname) setenv("HOSTNAME", s->hostname, 1);
  for (int i = 0; i < s->nenv; i++) {
    char *eq = strchr(s->env[i], '=');
    if (!eq) fail(125, "env %s is not KEY=VALUE", s->env[i]);
    *eq = 0;
    setenv(s->env[i], eq + 1, 1);
    *eq = '=';
  }
}

static void child_main(const struct spec *s, const sigset_t *orig) {
  /* If the monitor dies (SIGKILL), take the whole PID ns down with it instead of leaving an orphan. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (int i = 0; i < s->ncgroups; i++) write_file(s->cgroups[i], "0"); /* "0": the writing process */
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0) fail(125, "unshare mount/uts/ipc: %s", strerror(errno));
  setup_rootfs(s);
  if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) fail(125, "sethostname %s: %s", s->hostname, strerror(errno));
  enter_rootfs(s->rootfs);
  const char *wd = s->workdir ? s->workdir : "/";
  mkdir_p(wd, 0755);
  if (s->user) drop_to_user(s->user);
  if (chdir(wd) < 0) fail(125, "chdir %s: %s", wd, strerror(errno));
  set_env(s);
  sigprocmask(SIG_SETMASK, orig, NULL);
  execvp(s->argv[0], s->argv);
  if (errno == ENOENT) fail(127, "exec: \"%s\": executable file not found in $PATH", s->argv[0]);
  if (errno == EACCES) fail(126, "exec: \"%s\": permission denied", s->argv[0]);
  fail(125, "exec: \"%s\": %s", s->argv[0], strerror(errno));
}

static void write_status(const char *file, const char *text) {
  if (!file) return;
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) { /* the exit code is still reported by our own exit status */ }
  close(fd);
}

int main(int argc, char **argv) {
  struct spec s;
  parse(argc, argv, &s);
  int report = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (report >= 0) fcntl(report, F_SETFD, FD_CLOEXEC);

  if (s.netns) {
    int fd = open(s.netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) die_usage("join network namespace", s.netns);
    close(fd);
  }
  if (unshare(CLONE_NEWPID) < 0) die_usage("unshare pid namespace", strerror(errno));

  /* Block forwarded signals before forking, so none is lost between fork and the wait loop. */
  static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  sigset_t set, orig;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof fwd / sizeof *fwd; i++) sigaddset(&set, fwd[i]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &orig);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) die_usage("pipe", strerror(errno));
  pid_t child = fork();
  if (child < 0) die_usage("fork", strerror(errno));
  if (child == 0) {
    close(pipefd[0]);
    sync_fd = pipefd[1];
    child_main(&s, &orig);
  }
  close(pipefd[1]);

  char err[1100];
  ssize_t n, got = 0;
  while ((n = read(pipefd[0], err + got, sizeof err - 1 - got)) > 0) got += n;
  close(pipefd[0]);
  err[got] = 0;
  int err_code = 0;
  if (got > 0) {
    char *space = strchr(err, ' ');
    err_code = atoi(err);
    const char *msg = space ? space + 1 : err;
    fprintf(stderr, "cnm: %s\n", msg);
    if (report >= 0) dprintf(report, "error %d %s\n", err_code, msg);
  } else if (report >= 0) {
    dprintf(report, "started %d\n", (int)child);
  }
  if (report >= 0) close(report);

  int status = 0;
  for (;;) {
    int sig = sigwaitinfo(&set, NULL);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  char text[64];
  if (WIFSIGNALED(status)) snprintf(text, sizeof text, "signal %d\n", WTERMSIG(status));
  else snprintf(text, sizeof text, "exit %d\n", code);
  write_status(s.status_file, text);
  return code;
}
