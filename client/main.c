/*
 * main.c: the spmig command line. For now it knows --version and --help; the migrate, scan,
 * package and jobs commands arrive with the client issue.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "Usage: spmig COMMAND [OPTION]...\n"
                 "Client agent for spmigd, the SharePoint migration backend emulator.\n\n"
                 "Options:\n"
                 "  --help       show this help and exit\n"
                 "  --version    show the version and exit\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("spmig %s\n", SPMIG_VERSION);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
