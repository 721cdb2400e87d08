/* Consumer of an installed libbtsp: built by tests/consumer/run.sh both with
 * find_package(btsp) (CMakeLists.txt beside this file) and with pkg-config. */
#include <btsp/btsp.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    btsp_net *net = NULL;
    btsp_status st;

    if (strcmp(btsp_version_string(), BTSP_VERSION_STRING) != 0 ||
        btsp_version_number() != BTSP_VERSION_NUMBER) {
        fprintf(stderr, "consumer: header version %s but library version %s\n", BTSP_VERSION_STRING,
                btsp_version_string());
        return 1;
    }
    st = btsp_net_create(&net);
    if (st != BTSP_OK || net == NULL) {
        fprintf(stderr, "consumer: btsp_net_create failed: %s\n", btsp_status_string(st));
        return 1;
    }
    btsp_net_destroy(net);
    printf("consumer: libbtsp %s OK\n", btsp_version_string());
    return 0;
}
