/*
 * test_sas.c: unit tests of common/sas.c: string-to-sign and signature of blob service,
 * account and queue SAS for signed versions 2015-04-05 to 2026-04-06, sas_build against the
 * Azure SDK for Python, and refusal of malformed SAS fields. Time windows, addresses and
 * per-operation permissions are the server's auth_azure and are tested there.
 */

/*
 * How the vectors were computed (never with this code): a Python 3 script laid out each
 * string-to-sign as Microsoft's "Create a service SAS" / "Create an account SAS" pages give
 * it per version, signed it with hmac.new(base64.b64decode(DEV_KEY), sts, hashlib.sha256),
 * and asserted that the Azure SDK for Python (Debian python3-azure-storage: azure-storage-blob
 * 12.15.0b1 BlobSharedAccessSignature / SharedAccessSignature with x_ms_version set, and
 * azure-storage-queue 12.6.0b1 QueueSharedAccessSignature) produced the same sig wherever the
 * SDK's layout applies (blob and account SAS for sv >= 2020-12-06, queue SAS for every sv;
 * the SDK only knows the newest layout). Tokens are urllib.parse.quote(v, safe='').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "spmig_limits.h"
#include "query.h"
#include "sas.h"

#define DEV_KEY                                                                                    \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
/* base64 of 32 zero bytes: a well-formed sig for the tests that fail before verification */
#define ZERO_SIG "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"

static unsigned char key[64];
static size_t keylen;

static int setup(void **state)
{
    (void)state;
    long n = b64_decode_to(DEV_KEY, strlen(DEV_KEY), key, sizeof key);
    assert_int_equal(n, 64);
    keylen = (size_t)n;
    return 0;
}

struct vector {
    const char *name;
    enum sas_service svc;
    const char *token;    /* the SAS query string */
    const char *resource; /* canonicalised resource ("" for account SAS) */
    const char *snapshot; /* the request's snapshot=, or NULL */
    const char *sts;      /* expected string-to-sign */
    const char *sig;      /* expected signature */
};

/* Generated as described at the top of the file; st/se/sp/sip/spr/rsct/ses vary per kind. */
static const struct vector vectors[] = {
    {"blob_b 2015-04-05", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=racwd&sip=10.0.0.1-10.0.0.255&spr="
     "https&sv=2015-04-05&sr=b&rsct=text%2Fplain&sig=64ZpDimzLsr42U%2BP2bQpM6SbVdNBQzlKiZdMH7Zy%"
     "2Buw%3D",
     "/blob/devstoreaccount1/container/dir/blob.txt", NULL,
     "racwd\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/dir/"
     "blob.txt\n\n10.0.0.1-10.0.0.255\nhttps\n2015-04-05\n\n\n\n\ntext/plain",
     "64ZpDimzLsr42U+P2bQpM6SbVdNBQzlKiZdMH7Zy+uw="},
    {"blob_c 2015-04-05", SAS_BLOB,
     "se=2026-03-01&sp=rl&sv=2015-04-05&sr=c&sig=PchRl3OARmufhUsITeT8aClBnCQ0c0S2NVJoTKerssk%3D",
     "/blob/devstoreaccount1/container", NULL,
     "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n2015-04-05\n\n\n\n\n",
     "PchRl3OARmufhUsITeT8aClBnCQ0c0S2NVJoTKerssk="},
    {"blob_bs 2015-04-05", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=r&sv=2015-04-05&sr=bs&sig="
     "vSwUNeN8GZqrowCakf3N0vugEfTYjEzDfmV9fANkh8Q%3D",
     "/blob/devstoreaccount1/container/blob", "2026-01-01T10:00:00.1234567Z",
     "r\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/"
     "blob\n\n\n\n2015-04-05\n\n\n\n\n",
     "vSwUNeN8GZqrowCakf3N0vugEfTYjEzDfmV9fANkh8Q="},
    {"account 2015-04-05", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rwdlacup&spr=https%2Chttp&sv=2015-"
     "04-05&ss=bq&srt=sco&sig=Glikn4nquRnFWNpeQvzVQyKJLDGUfqXWRFOYss4Varg%3D",
     "", NULL,
     "devstoreaccount1\nrwdlacup\nbq\nsco\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n\nhttps,"
     "http\n2015-04-05\n",
     "Glikn4nquRnFWNpeQvzVQyKJLDGUfqXWRFOYss4Varg="},
    {"queue 2015-04-05", SAS_QUEUE,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-22T00%3A00%3A00Z&sp=rap&sip=127.0.0.1&sv=2015-04-05&"
     "sig=m3m9m9rGaibJ3CXrlwOkGb5fmrIQNAsxlga9CtjaF04%3D",
     "/queue/devstoreaccount1/myqueue", NULL,
     "rap\n2026-01-01T00:00:00Z\n2026-01-22T00:00:00Z\n/queue/devstoreaccount1/"
     "myqueue\n\n127.0.0.1\n\n2015-04-05",
     "m3m9m9rGaibJ3CXrlwOkGb5fmrIQNAsxlga9CtjaF04="},
    {"blob_b 2018-03-28", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=racwd&sip=10.0.0.1-10.0.0.255&spr="
     "https&sv=2018-03-28&sr=b&rsct=text%2Fplain&sig=9RVQFcDBr%2B47pQbbZ6MqEI3%"
     "2FnCxGoOhRGCD2c14HMLM%3D",
     "/blob/devstoreaccount1/container/dir/blob.txt", NULL,
     "racwd\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/dir/"
     "blob.txt\n\n10.0.0.1-10.0.0.255\nhttps\n2018-03-28\n\n\n\n\ntext/plain",
     "9RVQFcDBr+47pQbbZ6MqEI3/nCxGoOhRGCD2c14HMLM="},
    {"blob_c 2018-03-28", SAS_BLOB,
     "se=2026-03-01&sp=rl&sv=2018-03-28&sr=c&sig=G3LqhFAKSFypTPeYYI4HssTGXZ3j8i%2Bg7JQCDFjDkqc%3D",
     "/blob/devstoreaccount1/container", NULL,
     "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n2018-03-28\n\n\n\n\n",
     "G3LqhFAKSFypTPeYYI4HssTGXZ3j8i+g7JQCDFjDkqc="},
    {"blob_bs 2018-03-28", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=r&sv=2018-03-28&sr=bs&sig="
     "T5vFCxM28zeRHJ9IUdJzwb7FC59SERJImW5rsg5QdPM%3D",
     "/blob/devstoreaccount1/container/blob", "2026-01-01T10:00:00.1234567Z",
     "r\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/"
     "blob\n\n\n\n2018-03-28\n\n\n\n\n",
     "T5vFCxM28zeRHJ9IUdJzwb7FC59SERJImW5rsg5QdPM="},
    {"account 2018-03-28", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rwdlacup&spr=https%2Chttp&sv=2018-"
     "03-28&ss=bq&srt=sco&sig=ffSudMtXgHUQNrgwRovr4mYL21CO%2FPcQxwOpFdBKnsc%3D",
     "", NULL,
     "devstoreaccount1\nrwdlacup\nbq\nsco\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n\nhttps,"
     "http\n2018-03-28\n",
     "ffSudMtXgHUQNrgwRovr4mYL21CO/PcQxwOpFdBKnsc="},
    {"queue 2018-03-28", SAS_QUEUE,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-22T00%3A00%3A00Z&sp=rap&sip=127.0.0.1&sv=2018-03-28&"
     "sig=s9BksYZ5On85xSwfwJHJOOxX7Oien8DLLQMw2uNNTcc%3D",
     "/queue/devstoreaccount1/myqueue", NULL,
     "rap\n2026-01-01T00:00:00Z\n2026-01-22T00:00:00Z\n/queue/devstoreaccount1/"
     "myqueue\n\n127.0.0.1\n\n2018-03-28",
     "s9BksYZ5On85xSwfwJHJOOxX7Oien8DLLQMw2uNNTcc="},
    {"blob_b 2018-11-09", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=racwd&sip=10.0.0.1-10.0.0.255&spr="
     "https&sv=2018-11-09&sr=b&rsct=text%2Fplain&sig=zUNTnxmdNGHa5PjAfE8wAzTzsMbdGU7EMIqWuTSdYDQ%"
     "3D",
     "/blob/devstoreaccount1/container/dir/blob.txt", NULL,
     "racwd\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/dir/"
     "blob.txt\n\n10.0.0.1-10.0.0.255\nhttps\n2018-11-09\nb\n\n\n\n\n\ntext/plain",
     "zUNTnxmdNGHa5PjAfE8wAzTzsMbdGU7EMIqWuTSdYDQ="},
    {"blob_c 2018-11-09", SAS_BLOB,
     "se=2026-03-01&sp=rl&sv=2018-11-09&sr=c&sig=RQcdMmsGChBETS9plJnAsV20ye3v5yRMxo%2BOcIYFJL8%3D",
     "/blob/devstoreaccount1/container", NULL,
     "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n2018-11-09\nc\n\n\n\n\n\n",
     "RQcdMmsGChBETS9plJnAsV20ye3v5yRMxo+OcIYFJL8="},
    {"blob_bs 2018-11-09", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=r&sv=2018-11-09&sr=bs&sig="
     "irDlKHzDRMITP2DGUY%2B8kAHMAGCW0HtALxUZdkPm6GY%3D",
     "/blob/devstoreaccount1/container/blob", "2026-01-01T10:00:00.1234567Z",
     "r\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/"
     "blob\n\n\n\n2018-11-09\nbs\n2026-01-01T10:00:00.1234567Z\n\n\n\n\n",
     "irDlKHzDRMITP2DGUY+8kAHMAGCW0HtALxUZdkPm6GY="},
    {"account 2018-11-09", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rwdlacup&spr=https%2Chttp&sv=2018-"
     "11-09&ss=bq&srt=sco&sig=IuRI%2FtuBXcgIajFJ%2F1hI%2Fc6c6ODY3ysUkgOHVDepcPY%3D",
     "", NULL,
     "devstoreaccount1\nrwdlacup\nbq\nsco\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n\nhttps,"
     "http\n2018-11-09\n",
     "IuRI/tuBXcgIajFJ/1hI/c6c6ODY3ysUkgOHVDepcPY="},
    {"queue 2018-11-09", SAS_QUEUE,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-22T00%3A00%3A00Z&sp=rap&sip=127.0.0.1&sv=2018-11-09&"
     "sig=cXMntGhYBqtc3jsVKKeqr5c9%2BIT7qnJYnZKBVluun9E%3D",
     "/queue/devstoreaccount1/myqueue", NULL,
     "rap\n2026-01-01T00:00:00Z\n2026-01-22T00:00:00Z\n/queue/devstoreaccount1/"
     "myqueue\n\n127.0.0.1\n\n2018-11-09",
     "cXMntGhYBqtc3jsVKKeqr5c9+IT7qnJYnZKBVluun9E="},
    {"blob_b 2019-12-12", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=racwd&sip=10.0.0.1-10.0.0.255&spr="
     "https&sv=2019-12-12&sr=b&rsct=text%2Fplain&sig=dNx3n%2FNovcIf1V4NyeNK7vdJJo%2BIBcvsem%"
     "2BuJb4IEzk%3D",
     "/blob/devstoreaccount1/container/dir/blob.txt", NULL,
     "racwd\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/dir/"
     "blob.txt\n\n10.0.0.1-10.0.0.255\nhttps\n2019-12-12\nb\n\n\n\n\n\ntext/plain",
     "dNx3n/NovcIf1V4NyeNK7vdJJo+IBcvsem+uJb4IEzk="},
    {"blob_c 2019-12-12", SAS_BLOB,
     "se=2026-03-01&sp=rl&sv=2019-12-12&sr=c&sig=PIUrP61izdbeqdwoNCijxRRYjQogGXsGt0jnqVHP8Jw%3D",
     "/blob/devstoreaccount1/container", NULL,
     "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n2019-12-12\nc\n\n\n\n\n\n",
     "PIUrP61izdbeqdwoNCijxRRYjQogGXsGt0jnqVHP8Jw="},
    {"blob_bs 2019-12-12", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=r&sv=2019-12-12&sr=bs&sig="
     "P19JXWtOjytE5V9KBtESk0L22o1B1LFQh9zC2Ewp7KI%3D",
     "/blob/devstoreaccount1/container/blob", "2026-01-01T10:00:00.1234567Z",
     "r\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/"
     "blob\n\n\n\n2019-12-12\nbs\n2026-01-01T10:00:00.1234567Z\n\n\n\n\n",
     "P19JXWtOjytE5V9KBtESk0L22o1B1LFQh9zC2Ewp7KI="},
    {"account 2019-12-12", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rwdlacup&spr=https%2Chttp&sv=2019-"
     "12-12&ss=bq&srt=sco&sig=dviTw%2BKVfd4iSFZUi1sFBpKD5%2BMbIesi3Xa4FlzB%2Fls%3D",
     "", NULL,
     "devstoreaccount1\nrwdlacup\nbq\nsco\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n\nhttps,"
     "http\n2019-12-12\n",
     "dviTw+KVfd4iSFZUi1sFBpKD5+MbIesi3Xa4FlzB/ls="},
    {"queue 2019-12-12", SAS_QUEUE,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-22T00%3A00%3A00Z&sp=rap&sip=127.0.0.1&sv=2019-12-12&"
     "sig=NPy6rI7F1K8wz%2F3d4P%2BIFdQLqNp3FMhvaAN%2FIVCh9Bs%3D",
     "/queue/devstoreaccount1/myqueue", NULL,
     "rap\n2026-01-01T00:00:00Z\n2026-01-22T00:00:00Z\n/queue/devstoreaccount1/"
     "myqueue\n\n127.0.0.1\n\n2019-12-12",
     "NPy6rI7F1K8wz/3d4P+IFdQLqNp3FMhvaAN/IVCh9Bs="},
    {"blob_b 2020-12-06", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=racwd&sip=10.0.0.1-10.0.0.255&spr="
     "https&sv=2020-12-06&sr=b&rsct=text%2Fplain&sig=3PpcfwvdOw7zYxArTK%2BjcCcCDBGOOEA92%"
     "2F5BnyEiWV4%3D",
     "/blob/devstoreaccount1/container/dir/blob.txt", NULL,
     "racwd\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/dir/"
     "blob.txt\n\n10.0.0.1-10.0.0.255\nhttps\n2020-12-06\nb\n\n\n\n\n\n\ntext/plain",
     "3PpcfwvdOw7zYxArTK+jcCcCDBGOOEA92/5BnyEiWV4="},
    {"blob_c 2020-12-06", SAS_BLOB,
     "se=2026-03-01&sp=rl&sv=2020-12-06&sr=c&ses=scope1&sig=itMQPp3%"
     "2FTNyd8iqCLqG0KoFXFVm8lzpH7Zlycif4fvM%3D",
     "/blob/devstoreaccount1/container", NULL,
     "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n2020-12-06\nc\n\nscope1\n\n\n\n\n",
     "itMQPp3/TNyd8iqCLqG0KoFXFVm8lzpH7Zlycif4fvM="},
    {"blob_bs 2020-12-06", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=r&sv=2020-12-06&sr=bs&sig="
     "89rDdla6Ma%2Fb4cTOQlxQUrH2dM0iAMYWYoM2jlUO6Xc%3D",
     "/blob/devstoreaccount1/container/blob", "2026-01-01T10:00:00.1234567Z",
     "r\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/"
     "blob\n\n\n\n2020-12-06\nbs\n2026-01-01T10:00:00.1234567Z\n\n\n\n\n\n",
     "89rDdla6Ma/b4cTOQlxQUrH2dM0iAMYWYoM2jlUO6Xc="},
    {"account 2020-12-06", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rwdlacup&spr=https%2Chttp&sv=2020-"
     "12-06&ss=bq&srt=sco&sig=d9%2BUAl1JOb8iBFP65AritkW1MztSk4b5JzfDZWFSsqs%3D",
     "", NULL,
     "devstoreaccount1\nrwdlacup\nbq\nsco\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n\nhttps,"
     "http\n2020-12-06\n\n",
     "d9+UAl1JOb8iBFP65AritkW1MztSk4b5JzfDZWFSsqs="},
    {"queue 2020-12-06", SAS_QUEUE,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-22T00%3A00%3A00Z&sp=rap&sip=127.0.0.1&sv=2020-12-06&"
     "sig=ZONKfty7k%2FhhuXkuhoAJn0NgQLOstCc02Ib4Gx42mho%3D",
     "/queue/devstoreaccount1/myqueue", NULL,
     "rap\n2026-01-01T00:00:00Z\n2026-01-22T00:00:00Z\n/queue/devstoreaccount1/"
     "myqueue\n\n127.0.0.1\n\n2020-12-06",
     "ZONKfty7k/hhuXkuhoAJn0NgQLOstCc02Ib4Gx42mho="},
    {"blob_b 2021-12-02", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=racwd&sip=10.0.0.1-10.0.0.255&spr="
     "https&sv=2021-12-02&sr=b&rsct=text%2Fplain&sig=i9JZTML%2FUoewDhNpFPkrI2ObP%2BC%"
     "2FjM1m5aIdW77jweE%3D",
     "/blob/devstoreaccount1/container/dir/blob.txt", NULL,
     "racwd\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/dir/"
     "blob.txt\n\n10.0.0.1-10.0.0.255\nhttps\n2021-12-02\nb\n\n\n\n\n\n\ntext/plain",
     "i9JZTML/UoewDhNpFPkrI2ObP+C/jM1m5aIdW77jweE="},
    {"blob_c 2021-12-02", SAS_BLOB,
     "se=2026-03-01&sp=rl&sv=2021-12-02&sr=c&ses=scope1&sig="
     "n7hYQLW4F0mmrUhWs4RgcMlY68HMprhe1CcpIy8v7ns%3D",
     "/blob/devstoreaccount1/container", NULL,
     "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n2021-12-02\nc\n\nscope1\n\n\n\n\n",
     "n7hYQLW4F0mmrUhWs4RgcMlY68HMprhe1CcpIy8v7ns="},
    {"blob_bs 2021-12-02", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=r&sv=2021-12-02&sr=bs&sig="
     "xFJwiMbQe8UfZqXS4moI4m3n2cYvDKDaj9RJxg9AaAQ%3D",
     "/blob/devstoreaccount1/container/blob", "2026-01-01T10:00:00.1234567Z",
     "r\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/"
     "blob\n\n\n\n2021-12-02\nbs\n2026-01-01T10:00:00.1234567Z\n\n\n\n\n\n",
     "xFJwiMbQe8UfZqXS4moI4m3n2cYvDKDaj9RJxg9AaAQ="},
    {"account 2021-12-02", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rwdlacup&spr=https%2Chttp&sv=2021-"
     "12-02&ss=bq&srt=sco&sig=SK1RYNw%2BoD9YV%2BDKVdTix2CqBRRgu5ddMeWlD%2BIag20%3D",
     "", NULL,
     "devstoreaccount1\nrwdlacup\nbq\nsco\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n\nhttps,"
     "http\n2021-12-02\n\n",
     "SK1RYNw+oD9YV+DKVdTix2CqBRRgu5ddMeWlD+Iag20="},
    {"queue 2021-12-02", SAS_QUEUE,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-22T00%3A00%3A00Z&sp=rap&sip=127.0.0.1&sv=2021-12-02&"
     "sig=rlejDkCN1Usr32mZ2ebFIwzGydY%2F1%2B9yEbDgg4a3irc%3D",
     "/queue/devstoreaccount1/myqueue", NULL,
     "rap\n2026-01-01T00:00:00Z\n2026-01-22T00:00:00Z\n/queue/devstoreaccount1/"
     "myqueue\n\n127.0.0.1\n\n2021-12-02",
     "rlejDkCN1Usr32mZ2ebFIwzGydY/1+9yEbDgg4a3irc="},
    {"blob_b 2026-04-06", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=racwd&sip=10.0.0.1-10.0.0.255&spr="
     "https&sv=2026-04-06&sr=b&rsct=text%2Fplain&sig=sSdxlCj9WN%2BJIwNF6Avt1xQaTKuJ%"
     "2FJj1y07U5EvW3Xk%3D",
     "/blob/devstoreaccount1/container/dir/blob.txt", NULL,
     "racwd\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/dir/"
     "blob.txt\n\n10.0.0.1-10.0.0.255\nhttps\n2026-04-06\nb\n\n\n\n\n\n\ntext/plain",
     "sSdxlCj9WN+JIwNF6Avt1xQaTKuJ/Jj1y07U5EvW3Xk="},
    {"blob_c 2026-04-06", SAS_BLOB,
     "se=2026-03-01&sp=rl&sv=2026-04-06&sr=c&ses=scope1&sig=seRbJjtnV6LuEeSZGsq1QGSZihbtgFH9Zyn6b%"
     "2BiFU74%3D",
     "/blob/devstoreaccount1/container", NULL,
     "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n2026-04-06\nc\n\nscope1\n\n\n\n\n",
     "seRbJjtnV6LuEeSZGsq1QGSZihbtgFH9Zyn6b+iFU74="},
    {"blob_bs 2026-04-06", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=r&sv=2026-04-06&sr=bs&sig=eF6Q0Ug%"
     "2Fzl1oMW6xEAhPFvL4BWHiY9hVfNgkDt4MxCA%3D",
     "/blob/devstoreaccount1/container/blob", "2026-01-01T10:00:00.1234567Z",
     "r\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/devstoreaccount1/container/"
     "blob\n\n\n\n2026-04-06\nbs\n2026-01-01T10:00:00.1234567Z\n\n\n\n\n\n",
     "eF6Q0Ug/zl1oMW6xEAhPFvL4BWHiY9hVfNgkDt4MxCA="},
    {"account 2026-04-06", SAS_BLOB,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sp=rwdlacup&spr=https%2Chttp&sv=2026-"
     "04-06&ss=bq&srt=sco&sig=1HO6s07JMqwR5VZ1dmAuinAkCeDQYlVGLtXPhQ9DRwM%3D",
     "", NULL,
     "devstoreaccount1\nrwdlacup\nbq\nsco\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n\nhttps,"
     "http\n2026-04-06\n\n",
     "1HO6s07JMqwR5VZ1dmAuinAkCeDQYlVGLtXPhQ9DRwM="},
    {"queue 2026-04-06", SAS_QUEUE,
     "st=2026-01-01T00%3A00%3A00Z&se=2026-01-22T00%3A00%3A00Z&sp=rap&sip=127.0.0.1&sv=2026-04-06&"
     "sig=FkZh6SO4xDbLRqX1sIRhFheAhE9pCs8UqNuwzDlN6XE%3D",
     "/queue/devstoreaccount1/myqueue", NULL,
     "rap\n2026-01-01T00:00:00Z\n2026-01-22T00:00:00Z\n/queue/devstoreaccount1/"
     "myqueue\n\n127.0.0.1\n\n2026-04-06",
     "FkZh6SO4xDbLRqX1sIRhFheAhE9pCs8UqNuwzDlN6XE="},
};

static void parse_ok(const char *token, enum sas_service svc, struct query *q, struct sas *s)
{
    char err[200] = "";
    assert_int_equal(query_parse(token, strlen(token), q), 0);
    if (sas_parse(q, svc, s, err, sizeof err) != 0)
        fail_msg("sas_parse refused %s: %s", token, err);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        struct query q;
        struct sas s;
        parse_ok(v->token, v->svc, &q, &s);
        assert_true(sas_present(&q));
        assert_int_equal(s.is_account, strncmp(v->name, "account", 7) == 0);
        char *sts = sas_string_to_sign(&s, v->svc, "devstoreaccount1", v->resource, v->snapshot);
        if (strcmp(sts, v->sts) != 0)
            fail_msg("%s: string-to-sign\n got  %s\n want %s", v->name, sts, v->sts);
        char sig[45];
        assert_int_equal(sas_sign(key, keylen, sts, sig), 0);
        assert_string_equal(sig, v->sig);
        assert_string_equal(s.sig, v->sig);
        assert_true(sas_signature_ok(&s, key, keylen, sts));
        /* Verified signatures are remembered: again it verifies, another signature for the
         * same string does not. */
        assert_true(sas_signature_ok(&s, key, keylen, sts));
        const char *given = s.sig;
        char wrong[45];
        snprintf(wrong, sizeof wrong, "%s", given);
        wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
        s.sig = wrong;
        assert_false(sas_signature_ok(&s, key, keylen, sts));
        s.sig = given;
        /* Another key, or another string, does not verify. */
        unsigned char other[64];
        memcpy(other, key, sizeof other);
        other[0] ^= 1;
        assert_false(sas_signature_ok(&s, other, keylen, sts));
        sts[0] = sts[0] == 'r' ? 'w' : 'r';
        assert_false(sas_signature_ok(&s, key, keylen, sts));
        free(sts);
        query_finish(&q);
    }
}

/* The account SAS of every version reads the same fields; the resource is ignored. */
static void test_account_ignores_resource(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        if (strncmp(v->name, "account", 7) != 0)
            continue;
        struct query q;
        struct sas s;
        parse_ok(v->token, SAS_QUEUE, &q, &s);
        char *sts = sas_string_to_sign(&s, SAS_QUEUE, "devstoreaccount1", "/queue/x/y", "snap");
        assert_string_equal(sts, v->sts);
        free(sts);
        query_finish(&q);
    }
}

static void test_parsed_values(void **state)
{
    (void)state;
    struct query q;
    struct sas s;
    /* vectors[0]: blob_b 2015-04-05 */
    parse_ok(vectors[0].token, SAS_BLOB, &q, &s);
    assert_false(s.is_account);
    assert_int_equal(s.perms,
                     SAS_PERM('r') | SAS_PERM('a') | SAS_PERM('c') | SAS_PERM('w') | SAS_PERM('d'));
    assert_true(s.has_start);
    /* python3 calendar.timegm: 2026-01-01T00:00:00Z = 1767225600, 2026-01-02 = 1767312000 */
    assert_true(s.start_ms == 1767225600000LL);
    assert_true(s.expiry_ms == 1767312000000LL);
    assert_true(s.https_only);
    assert_true(s.has_ip);
    assert_int_equal(s.ip_lo, 0x0a000001);
    assert_int_equal(s.ip_hi, 0x0a0000ff);
    assert_string_equal(s.sr, "b");
    assert_string_equal(s.rsct, "text/plain");
    assert_null(s.rscc);
    assert_null(s.si);
    query_finish(&q);

    /* vectors[3]: account 2015-04-05 */
    parse_ok(vectors[3].token, SAS_BLOB, &q, &s);
    assert_true(s.is_account);
    assert_int_equal(s.services, SAS_SS_BLOB | SAS_SS_QUEUE);
    assert_int_equal(s.types, SAS_SRT_SERVICE | SAS_SRT_CONTAINER | SAS_SRT_OBJECT);
    assert_false(s.https_only); /* spr=https,http */
    assert_false(s.has_ip);
    query_finish(&q);

    /* vectors[1]: blob_c without st; se a plain date (2026-03-01 = 1772323200 s) */
    parse_ok(vectors[1].token, SAS_BLOB, &q, &s);
    assert_false(s.has_start);
    assert_true(s.expiry_ms == 1772323200000LL);
    assert_false(s.https_only); /* no spr */
    query_finish(&q);

    /* A single address is a range of one. */
    parse_ok(vectors[4].token, SAS_QUEUE, &q, &s);
    assert_true(s.has_ip);
    assert_int_equal(s.ip_lo, 0x7f000001);
    assert_int_equal(s.ip_hi, 0x7f000001);
    assert_int_equal(s.perms, SAS_PERM('r') | SAS_PERM('a') | SAS_PERM('p'));
    query_finish(&q);

    parse_ok("sv=2021-12-02&sp=rwd&se=2026-01-01&sr=c&spr=http,https&ss=bqtf&srt=s&sig=" ZERO_SIG,
             SAS_BLOB, &q, &s);
    assert_int_equal(s.services, SAS_SS_BLOB | SAS_SS_QUEUE | SAS_SS_TABLE | SAS_SS_FILE);
    assert_int_equal(s.types, SAS_SRT_SERVICE);
    assert_false(s.https_only);
    query_finish(&q);
}

/* A version newer than any layout known here signs with the newest layout. */
static void test_future_version(void **state)
{
    (void)state;
    const char *base = "se=2026-03-01&sp=rl&sr=c&ses=scope1&sig=" ZERO_SIG "&sv=";
    const char *vers[] = {"2026-04-06", "2030-01-01", "2099-12-31"};
    for (size_t i = 0; i < 3; i++) {
        char token[300];
        snprintf(token, sizeof token, "%s%s", base, vers[i]);
        struct query q;
        struct sas s;
        parse_ok(token, SAS_BLOB, &q, &s);
        char *sts = sas_string_to_sign(&s, SAS_BLOB, "devstoreaccount1",
                                       "/blob/devstoreaccount1/container", NULL);
        char want[300];
        snprintf(
            want, sizeof want,
            "rl\n\n2026-03-01\n/blob/devstoreaccount1/container\n\n\n\n%s\nc\n\nscope1\n\n\n\n\n",
            vers[i]);
        assert_string_equal(sts, want);
        free(sts);
        query_finish(&q);
    }
}

/*
 * sas_build against the Azure SDK for Python 12.15.0b1 (blob) / 12.6.0b1 (queue):
 * generate_container_sas, generate_blob_sas, generate_account_sas (ss=b) and
 * generate_queue_sas with DEV_KEY, with '/' replaced by %2F in the output (the SDK's quote()
 * leaves '/' alone, query_encode does not).
 */
static void test_build_matches_sdk(void **state)
{
    (void)state;
    /* python3 calendar.timegm: 2026-11-22T12:55:53Z, 2026-11-25T12:55:53Z, 2026-12-13T12:55:53Z */
    const int64_t st = 1795352153000LL, se = 1795611353000LL, se_q = 1797166553000LL;
    struct sas_grant g;

    memset(&g, 0, sizeof g);
    g.svc = SAS_BLOB;
    g.permissions = "rw";
    g.start_ms = st;
    g.expiry_ms = se;
    g.account_name = "devstoreaccount1";
    g.container = "container";
    char *t = sas_build(&g, key, keylen);
    assert_string_equal(t, "st=2026-11-22T12%3A55%3A53Z&se=2026-11-25T12%3A55%3A53Z&sp=rw&sv=2021-"
                           "12-02&sr=c&sig=RJVrkOrRJPFhFU9rXFF4FePcKaZKD5lZAjS21KRAuP8%3D");
    free(t);

    memset(&g, 0, sizeof g);
    g.svc = SAS_BLOB;
    g.permissions = "r";
    g.expiry_ms = se;
    g.ip = "10.1.2.3";
    g.protocol = "https";
    g.account_name = "devstoreaccount1";
    g.container = "container";
    g.blob = "dir/a b.txt";
    t = sas_build(&g, key, keylen);
    assert_string_equal(t, "se=2026-11-25T12%3A55%3A53Z&sp=r&sip=10.1.2.3&spr=https&sv=2021-12-02&"
                           "sr=b&sig=IcvtRL0O19MCxQpn3%2BSPWCkRoUaop5ctPsM7amqbjcI%3D");
    free(t);

    memset(&g, 0, sizeof g);
    g.svc = SAS_BLOB;
    g.account = true;
    g.permissions = "rwdlac";
    g.services = "b";
    g.resource_types = "sco";
    g.start_ms = st;
    g.expiry_ms = se;
    g.account_name = "devstoreaccount1";
    t = sas_build(&g, key, keylen);
    assert_string_equal(t, "st=2026-11-22T12%3A55%3A53Z&se=2026-11-25T12%3A55%3A53Z&sp=rwdlac&sv="
                           "2021-12-02&ss=b&srt=sco&sig=e5znH85tphwSGNRxawaj%2Bl8NlQKCnw%"
                           "2BPOjLWM%2FGDQZE%3D");
    free(t);

    memset(&g, 0, sizeof g);
    g.svc = SAS_QUEUE;
    g.version = "2021-02-12"; /* the queue SDK's own version */
    g.permissions = "rap";
    g.start_ms = st;
    g.expiry_ms = se_q;
    g.account_name = "devstoreaccount1";
    g.container = "migration-queue";
    t = sas_build(&g, key, keylen);
    assert_string_equal(t, "st=2026-11-22T12%3A55%3A53Z&se=2026-12-13T12%3A55%3A53Z&sp=rap&sv="
                           "2021-02-12&sig=EJvuGqIqMqH5Vo%2BwwhY%2FM4OhcfExpTxgpg5ivJGgPNo%3D");
    free(t);
}

/* What sas_build makes, sas_parse reads and sas_signature_ok accepts, at every version. */
static void test_build_round_trip(void **state)
{
    (void)state;
    const char *vers[] = {"2015-04-05", "2018-03-28", "2018-11-09", "2019-12-12",
                          "2020-12-06", "2021-12-02", "2026-04-06"};
    for (size_t i = 0; i < sizeof vers / sizeof vers[0]; i++) {
        for (int kind = 0; kind < 4; kind++) {
            struct sas_grant g;
            memset(&g, 0, sizeof g);
            g.version = vers[i];
            g.svc = kind == 3 ? SAS_QUEUE : SAS_BLOB;
            g.account = kind == 2;
            g.permissions = kind == 3 ? "raup" : kind == 2 ? "rwdlacup" : "rwl";
            g.services = "bq";
            g.resource_types = "co";
            g.start_ms = 1795352153000LL;
            g.expiry_ms = 1795611353000LL;
            g.ip = kind == 1 ? "192.168.0.1-192.168.0.9" : NULL;
            g.protocol = kind == 1 ? "https" : NULL;
            g.account_name = "devstoreaccount1";
            g.container = kind == 3 ? "q1" : "c1";
            g.blob = kind == 1 ? "folder/file name.bin" : NULL;
            char *t = sas_build(&g, key, keylen);
            struct query q;
            struct sas s;
            parse_ok(t, g.svc, &q, &s);
            assert_true(s.start_ms == g.start_ms);
            assert_true(s.expiry_ms == g.expiry_ms);
            const char *res = kind == 0   ? "/blob/devstoreaccount1/c1"
                              : kind == 1 ? "/blob/devstoreaccount1/c1/folder/file name.bin"
                              : kind == 3 ? "/queue/devstoreaccount1/q1"
                                          : NULL;
            char *sts = sas_string_to_sign(&s, g.svc, "devstoreaccount1", res, NULL);
            if (!sas_signature_ok(&s, key, keylen, sts))
                fail_msg("version %s kind %d: %s", vers[i], kind, t);
            free(sts);
            query_finish(&q);
            free(t);
        }
    }
}

/* Parses token for svc and expects a refusal whose reason contains want. */
static void refused(const char *token, enum sas_service svc, const char *want)
{
    struct query q;
    struct sas s;
    char err[256] = "";
    if (query_parse(token, strlen(token), &q) != 0)
        fail_msg("query refused: %s", token);
    if (sas_parse(&q, svc, &s, err, sizeof err) != -1)
        fail_msg("accepted: %s", token);
    if (!strstr(err, want))
        fail_msg("reason for %s is \"%s\", wanted \"%s\"", token, err, want);
    query_finish(&q);
}

static void accepted(const char *token, enum sas_service svc)
{
    struct query q;
    struct sas s;
    parse_ok(token, svc, &q, &s);
    query_finish(&q);
}

#define BLOB_OK  "sv=2021-12-02&sr=b&sp=r&se=2026-01-01&sig=" ZERO_SIG
#define ACCT_OK  "sv=2021-12-02&ss=b&srt=o&sp=r&se=2026-01-01&sig=" ZERO_SIG
#define QUEUE_OK "sv=2021-12-02&sp=r&se=2026-01-01&sig=" ZERO_SIG

static void test_bases_are_valid(void **state)
{
    (void)state;
    accepted(BLOB_OK, SAS_BLOB);
    accepted(ACCT_OK, SAS_BLOB);
    accepted(ACCT_OK, SAS_QUEUE);
    accepted(QUEUE_OK, SAS_QUEUE);
}

static void test_duplicate_fields(void **state)
{
    (void)state;
    const char *names[] = {"sv", "ss",  "srt", "sp",   "st",   "se",   "sip",  "spr",  "sr",
                           "si", "sig", "ses", "rscc", "rscd", "rsce", "rscl", "rsct", "sdd"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char token[300], want[64];
        /* The same value twice is still a duplicate. */
        snprintf(token, sizeof token, "%s&%s=x&%s=x", BLOB_OK, names[i], names[i]);
        snprintf(want, sizeof want, "duplicate SAS field '%s'", names[i]);
        refused(token, SAS_BLOB, want);
    }
    refused(BLOB_OK "&sig=" ZERO_SIG, SAS_BLOB, "duplicate SAS field 'sig'");
    refused(QUEUE_OK "&sp=r", SAS_QUEUE, "duplicate SAS field 'sp'");
    refused(ACCT_OK "&ss=b", SAS_BLOB, "duplicate SAS field 'ss'");
    /* Other parameters may repeat: they are not SAS fields. */
    accepted(BLOB_OK "&comp=x&comp=y", SAS_BLOB);
}

static void test_bad_sig(void **state)
{
    (void)state;
    const char *base = "sv=2021-12-02&sr=b&sp=r&se=2026-01-01";
    const char *sigs[] = {
        "",
        "abc",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D%3D",     /* 31 bytes */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D%3D", /* 33 bytes */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",          /* unpadded */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-%3D",       /* URL-safe alphabet */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_%3D",
        "AAAAAAAAAAAAAAAAAAAAA%20AAAAAAAAAAAAAAAAAAAAA%3D",  /* a space */
        "AAAAAAAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAAAAAAAA%3D",    /* raw '+' reads as a space */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D%0A", /* trailing newline */
        "%3DAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     /* padding first */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3DAA",     /* padding in the middle */
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        char token[300];
        snprintf(token, sizeof token, "%s&sig=%s", base, sigs[i]);
        refused(token, SAS_BLOB, "'sig'");
    }
    /* sas_parse is called only when sig is present, but copes without it. */
    refused(base, SAS_BLOB, "missing SAS field 'sig'");
    struct query q;
    assert_int_equal(query_parse(base, strlen(base), &q), 0);
    assert_false(sas_present(&q));
    query_finish(&q);
}

static void test_bad_permissions(void **state)
{
    (void)state;
    refused("sv=2021-12-02&sr=b&sp=rz&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'z'");
    refused("sv=2021-12-02&sr=b&sp=R&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'R'");
    refused("sv=2021-12-02&sr=b&sp=rwr&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB,
            "letter 'r' given twice");
    refused("sv=2021-12-02&sr=b&sp=&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'sp' is empty");
    refused("sv=2021-12-02&sr=b&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "missing SAS field 'sp'");
    refused("sv=2021-12-02&sr=b&sp=r%20&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "' '");
    /* Letters are per kind of SAS: 'u' is not a blob service permission, 'w' not a queue one,
     * 'e' and 'o' not account ones. */
    refused("sv=2021-12-02&sr=b&sp=ru&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'u'");
    refused("sv=2021-12-02&sp=rw&se=2026-01-01&sig=" ZERO_SIG, SAS_QUEUE, "'w'");
    refused("sv=2021-12-02&ss=b&srt=o&sp=re&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'e'");
    refused("sv=2021-12-02&ss=b&srt=o&sp=o&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'o'");
    /* Every documented letter, in any order. */
    accepted("sv=2021-12-02&sr=c&sp=ipoemtlyxdwcar&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB);
    accepted("sv=2021-12-02&ss=bqtf&srt=sco&sp=iftpucalyxdwr&se=2026-01-01&sig=" ZERO_SIG,
             SAS_QUEUE);
}

static void test_account_letters(void **state)
{
    (void)state;
    refused("sv=2021-12-02&ss=bqtf&srt=sco&sp=rwdxylacuptfi&se=2026-01-01&sig=" ZERO_SIG "&ss=b",
            SAS_BLOB, "duplicate");
    accepted("sv=2021-12-02&ss=bqtf&srt=sco&sp=rwdxylacuptfi&se=2026-01-01&sig=" ZERO_SIG,
             SAS_BLOB);
    refused("sv=2021-12-02&ss=bx&srt=sco&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB,
            "unknown letter 'x' in SAS field 'ss'");
    refused("sv=2021-12-02&ss=bb&srt=sco&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB,
            "letter 'b' given twice in SAS field 'ss'");
    refused("sv=2021-12-02&ss=&srt=sco&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'ss'");
    refused("sv=2021-12-02&ss=b&srt=scx&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB,
            "unknown letter 'x' in SAS field 'srt'");
    refused("sv=2021-12-02&ss=b&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB,
            "missing SAS field 'srt'");
    refused("sv=2021-12-02&srt=s&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB,
            "missing SAS field 'ss'");
}

static void test_bad_times(void **state)
{
    (void)state;
    const char *bad[] = {"2026-13-01",           "2026-02-30", "tomorrow", "2026-01-01T00:00:00",
                         "2026-01-01T25:00:00Z", "1767225600", "",         "2026-01-01%20"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char token[300];
        snprintf(token, sizeof token, "sv=2021-12-02&sr=b&sp=r&se=%s&sig=%s", bad[i], ZERO_SIG);
        refused(token, SAS_BLOB, "'se'");
        snprintf(token, sizeof token, "%s&st=%s", BLOB_OK, bad[i]);
        refused(token, SAS_BLOB, "'st'");
    }
    refused("sv=2021-12-02&sr=b&sp=r&sig=" ZERO_SIG, SAS_BLOB, "missing SAS field 'se'");
    refused("sv=2021-12-02&sp=r&sig=" ZERO_SIG, SAS_QUEUE, "missing SAS field 'se'");
    /* The forms Azure accepts. */
    accepted(BLOB_OK "&st=2025-12-31T23:59Z", SAS_BLOB);
    accepted(BLOB_OK "&st=2025-12-31T23:59:59.1234567Z", SAS_BLOB);
    accepted(BLOB_OK "&st=2025-12-31T23%3A59%3A59%2B01%3A00", SAS_BLOB);
}

static void test_bad_version(void **state)
{
    (void)state;
    refused("sr=b&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "missing SAS field 'sv'");
    refused("sv=2014-02-14&sr=b&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB,
            "signed version '2014-02-14' is not supported");
    refused("sv=2015-04-04&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_QUEUE, "not supported");
    refused("sv=2013-08-15&ss=b&srt=o&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "not supported");
    const char *bad[] = {"2015-4-5",   "2015-04-05x",         "20150405", "", "latest",
                         "2015-13-01", "2021-12-02T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char token[300];
        snprintf(token, sizeof token, "sv=%s&sr=b&sp=r&se=2026-01-01&sig=%s", bad[i], ZERO_SIG);
        refused(token, SAS_BLOB, "'sv'");
    }
    accepted("sv=2015-04-05&sr=b&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB);
    accepted("sv=2099-01-01&sr=b&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB);
}

static void test_bad_sip(void **state)
{
    (void)state;
    const char *bad[] = {"1.2.3",
                         "1.2.3.4.5",
                         "256.1.1.1",
                         "1.2.3.256",
                         "01.2.3.4",
                         "1.2.3.4-1.2.3.3",
                         "1.2.3.4-",
                         "-1.2.3.4",
                         "::1",
                         "a.b.c.d",
                         "1.2.3.4%20",
                         "%201.2.3.4",
                         "",
                         "1..2.3",
                         "1.2.3.4-5.6.7.8-9.9.9.9",
                         "1.2.3.4/24",
                         "+1.2.3.4",
                         "1.2.3.0004",
                         "1.2.3.4--1.2.3.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char token[300];
        snprintf(token, sizeof token, "%s&sip=%s", BLOB_OK, bad[i]);
        refused(token, SAS_BLOB, "'sip'");
    }
    accepted(BLOB_OK "&sip=0.0.0.0-255.255.255.255", SAS_BLOB);
    accepted(BLOB_OK "&sip=1.2.3.4-1.2.3.4", SAS_BLOB);
}

static void test_bad_spr(void **state)
{
    (void)state;
    const char *bad[] = {"http", "HTTPS", "https,", "https,%20http", "", "https,https", "ftp"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char token[300];
        snprintf(token, sizeof token, "%s&spr=%s", BLOB_OK, bad[i]);
        refused(token, SAS_BLOB, "'spr'");
    }
    accepted(BLOB_OK "&spr=http%2Chttps", SAS_BLOB);
}

static void test_bad_sr(void **state)
{
    (void)state;
    refused("sv=2021-12-02&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "missing SAS field 'sr'");
    refused("sv=2021-12-02&sr=x&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'x'");
    refused("sv=2021-12-02&sr=B&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'sr'");
    refused("sv=2021-12-02&sr=&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'sr'");
    refused("sv=2021-12-02&sr=d&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'sdd'");
    refused("sv=2021-12-02&sr=d&sdd=x&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'sdd'");
    refused("sv=2021-12-02&sr=d&sdd=&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB, "'sdd'");
    const char *good[] = {"c", "b", "bs", "bv"};
    for (size_t i = 0; i < 4; i++) {
        char token[300];
        snprintf(token, sizeof token, "sv=2021-12-02&sr=%s&sp=r&se=2026-01-01&sig=%s", good[i],
                 ZERO_SIG);
        accepted(token, SAS_BLOB);
    }
    accepted("sv=2021-12-02&sr=d&sdd=2&sp=r&se=2026-01-01&sig=" ZERO_SIG, SAS_BLOB);
    /* Queue SAS have no sr; one that is present is ignored, as Azure ignores unknown ones. */
    accepted(QUEUE_OK "&sr=q", SAS_QUEUE);
    /* An account SAS needs none. */
    accepted(ACCT_OK, SAS_BLOB);
}

static void test_field_too_long(void **state)
{
    (void)state;
    static char token[sizeof BLOB_OK + LIMIT_SAS_FIELD + 16], value[LIMIT_SAS_FIELD + 2];
    memset(value, 'a', LIMIT_SAS_FIELD);
    value[LIMIT_SAS_FIELD] = '\0';
    snprintf(token, sizeof token, "%s&rscc=%s", BLOB_OK, value); /* exactly at the limit */
    accepted(token, SAS_BLOB);
    value[LIMIT_SAS_FIELD] = 'a';
    value[LIMIT_SAS_FIELD + 1] = '\0';
    snprintf(token, sizeof token, "%s&rscc=%s", BLOB_OK, value);
    refused(token, SAS_BLOB, "'rscc' is longer than");
}

static void test_err_optional(void **state)
{
    (void)state;
    struct query q;
    struct sas s;
    const char *t = "sv=2021-12-02&sp=r";
    assert_int_equal(query_parse(t, strlen(t), &q), 0);
    assert_int_equal(sas_parse(&q, SAS_BLOB, &s, NULL, 0), -1);
    char err[8];
    assert_int_equal(sas_parse(&q, SAS_BLOB, &s, err, sizeof err), -1);
    assert_int_equal(strlen(err), sizeof err - 1); /* truncated, terminated */
    query_finish(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),           cmocka_unit_test(test_account_ignores_resource),
        cmocka_unit_test(test_parsed_values),     cmocka_unit_test(test_future_version),
        cmocka_unit_test(test_build_matches_sdk), cmocka_unit_test(test_build_round_trip),
        cmocka_unit_test(test_bases_are_valid),   cmocka_unit_test(test_duplicate_fields),
        cmocka_unit_test(test_bad_sig),           cmocka_unit_test(test_bad_permissions),
        cmocka_unit_test(test_account_letters),   cmocka_unit_test(test_bad_times),
        cmocka_unit_test(test_bad_version),       cmocka_unit_test(test_bad_sip),
        cmocka_unit_test(test_bad_spr),           cmocka_unit_test(test_bad_sr),
        cmocka_unit_test(test_field_too_long),    cmocka_unit_test(test_err_optional),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
