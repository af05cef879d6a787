// The PostgreSQL store's pure parts, without a server: which --db URLs it takes and how they
// are split (our schema parameter, passwords kept out of messages), and the binary COPY format.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "load/postgres/pg_binary.h"
#include "load/postgres/pg_url.h"

namespace covid {
namespace {

using Strings = std::vector<std::string>;

TEST(PostgresUrl, RecognisesUrisAndKeywordValueStrings) {
  for (const char* yes :
       {"postgresql://h/db", "postgres://u@h:5/db?sslmode=require", "postgresql://",
        "host=/run/postgresql dbname=covid", "dbname = covid", "service=etl"}) {
    EXPECT_TRUE(is_postgres_url(yes)) << yes;
  }
  for (const char* no : {"data/covid.db", "sqlite:x.db", "/tmp/host=x.db", "hostname=x",
                         "mysql://h/db", "dynamodb://t", "postgresql:/h/db", "Host=x"}) {
    EXPECT_FALSE(is_postgres_url(no)) << no;
  }
}

TEST(PostgresUrl, SchemaIsOursAndRemovedBeforeLibpq) {
  struct Case {
    const char* url;
    const char* conninfo;
    const char* schema;
    const char* display;
  };
  const Case cases[] = {
      {"postgresql://h/db", "postgresql://h/db", "covid_etl", "postgresql://h/db"},
      {"postgresql://h/db?schema=etl2", "postgresql://h/db", "etl2", "postgresql://h/db"},
      {"postgres://u:p%40ss@h:5432/db?sslmode=require&schema=Covid_2&connect_timeout=3",
       "postgres://u:p%40ss@h:5432/db?sslmode=require&connect_timeout=3", "Covid_2",
       "postgres://u:***@h:5432/db?sslmode=require&connect_timeout=3"},
      {"postgresql://h/db?password=topsecret&schema=x", "postgresql://h/db?password=topsecret", "x",
       "postgresql://h/db?password=***"},
      {"host=/tmp dbname=covid schema=s1 password='a b\\'c'",
       "host=/tmp dbname=covid password='a b\\'c'", "s1", "host=/tmp dbname=covid password=***"},
      {"dbname = covid  schema = s2", "dbname = covid", "s2", "dbname = covid"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    Result<PgTarget> t = parse_postgres_url(c.url);
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->conninfo, c.conninfo);
    EXPECT_EQ(t->schema, c.schema);
    EXPECT_EQ(t->display, c.display);
  }
  Result<PgTarget> t = parse_postgres_url("postgres://u:p%40ss@h/db?password=x%26y");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->secrets, (Strings{"p@ss", "x&y"}));
  Result<PgTarget> ssl =
      parse_postgres_url("postgresql://h/db?sslpassword=keypass&sslmode=verify-full");
  ASSERT_TRUE(ssl.ok());
  EXPECT_EQ(ssl->display, "postgresql://h/db?sslpassword=***&sslmode=verify-full");
  EXPECT_EQ(ssl->secrets, Strings{"keypass"});
  Result<PgTarget> kv = parse_postgres_url("host=h password='a b\\'c'");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->secrets, Strings{"a b'c"});
}

TEST(PostgresUrl, BadSchemaNamesAreUsageErrors) {
  for (const char* bad :
       {"postgresql://h/db?schema=", "postgresql://h/db?schema=1abc",
        "postgresql://h/db?schema=pg_x", "postgresql://h/db?schema=a%22b",
        "postgresql://h/db?schema=a-b", "postgresql://u:s3cret@h/db?schema=x;drop",
        "host=h schema='a b'",
        "postgresql://h/"
        "db?schema=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    Result<PgTarget> t = parse_postgres_url(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().kind(), ErrorKind::kUsage) << bad;
    EXPECT_EQ(t.status().message().find("s3cret"), std::string::npos);
  }
  EXPECT_FALSE(parse_postgres_url("host=h dbname='unterminated").ok());
  EXPECT_FALSE(parse_postgres_url("host=h dbname").ok());
  EXPECT_EQ(quote_identifier("Covid_2"), "\"Covid_2\"");
  EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(scrub_secrets("user x password p@ss p@ss", {"p@ss", ""}), "user x password *** ***");
}

TEST(PostgresBinary, CopyStreamLayout) {
  CopyBinaryWriter w;
  w.begin_row(3);
  w.text("US");
  w.date(date_from_ymd(2000, 1, 2));
  w.int8(-2);
  w.begin_row(2);
  w.null();
  w.boolean(true);
  w.finish();
  const std::string expected(
      "PGCOPY\n\xff\r\n\0"
      "\0\0\0\0"
      "\0\0\0\0"
      "\0\x03"
      "\0\0\0\x02US"
      "\0\0\0\x04\0\0\0\x01"
      "\0\0\0\x08\xff\xff\xff\xff\xff\xff\xff\xfe"
      "\0\x02"
      "\xff\xff\xff\xff"
      "\0\0\0\x01\x01"
      "\xff\xff",
      11 + 8 + 2 + 6 + 8 + 12 + 2 + 4 + 5 + 2);
  EXPECT_EQ(w.take(), expected);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(pg_date(date_from_ymd(2000, 1, 1)), 0);
  EXPECT_EQ(from_pg_date(-10957), date_from_ymd(1970, 1, 1));
  EXPECT_EQ(read_be64("\xff\xff\xff\xff\xff\xff\xff\xfe"), uint64_t(-2));
}

}  // namespace
}  // namespace covid
