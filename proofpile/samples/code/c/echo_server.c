/* A TCP echo server: no mathematics here. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

int main(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(7) };
    bind(fd, (struct sockaddr *)&addr, sizeof addr);
    listen(fd, 16);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        char buf[512];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            write(c, buf, n);
        close(c);
    }
}
