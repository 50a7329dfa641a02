/*
 * mrapfs entry point. The mount itself arrives with the read side of fs/
 * (issue 3); until then the binary answers --version and --help honestly.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("mrapfs %s\n", MRAP_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: mrapfs [OPTIONS] <MRAP> <MOUNTPOINT>\n"
                    "mounting is not available in this build yet\n");
    return 2;
}
