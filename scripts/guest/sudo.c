/* The guest image's sudo: cloud-init gives the default user passwordless sudo
 * ("<user> ALL=(ALL) NOPASSWD:ALL" in /etc/sudoers.d/90-cloud-init-users), and the suite
 * runs its probe with `sudo -n`. busybox has no sudo, so this setuid-root helper allows
 * exactly the users listed in that file, with options -n and -i/-s ignored or refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int allowed(const char *user) {
    char line[512];
    FILE *f = fopen("/etc/sudoers.d/90-cloud-init-users", "r");
    size_t n = strlen(user);
    int ok = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, user, n) && line[n] == ' ' && strstr(line, "NOPASSWD:ALL")) ok = 1;
    fclose(f);
    return ok;
}

/* The caller's name from /etc/passwd (no NSS: this binary is static). */
static int caller(char *name, size_t size) {
    char line[512], *user, *uid;
    FILE *f = fopen("/etc/passwd", "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        user = strtok(line, ":");
        strtok(NULL, ":");
        uid = strtok(NULL, ":");
        if (user && uid && (unsigned)atoi(uid) == getuid()) {
            snprintf(name, size, "%s", user);
            fclose(f);
            return 1;
        }
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    char name[256];
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-n") && strcmp(argv[i], "--")) {
            fprintf(stderr, "sudo: option %s is not supported in this guest\n", argv[i]);
            return 1;
        }
        i++;
    }
    if (getuid() != 0 && (!caller(name, sizeof name) || !allowed(name))) {
        fprintf(stderr, "sudo: a password is required\n");
        return 1;
    }
    if (i >= argc) { fprintf(stderr, "usage: sudo [-n] command\n"); return 1; }
    if (setgid(0) || setuid(0)) { perror("sudo"); return 1; }
    execvp(argv[i], argv + i);
    fprintf(stderr, "sudo: %s: command not found\n", argv[i]);
    return 1;
}
