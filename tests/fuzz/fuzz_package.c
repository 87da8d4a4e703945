/*
 * libFuzzer target: the package parser and validator (libxml2 with any DOCTYPE refused, the
 * embedded lenient XSDs, then the C checks of package.c). The bytes are parsed once as each
 * kind of package file, manifest first, into one package for a fixed target, then finished.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct package_target target;
    if (!target.web_url) {
        uuid_parse("5cfdbe90-402b-4794-b19d-08bf0b6e7a7e", target.web_id);
        uuid_parse("1d4a2089-bf6c-4e1d-be58-dc2972873c19", target.list_id);
        uuid_parse("808b844d-5249-4bd2-adbf-a9fff3d27fbd", target.root_folder_id);
        target.web_url = "/sites/hr";
        target.root_folder_url = "/sites/hr/Shared Documents";
    }
    struct package *p = package_create(&target);
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++)
        package_parse(p, (enum package_file)k, package_file_name((enum package_file)k), data, size);
    package_finish(p);
    package_destroy(p);
    return 0;
}
