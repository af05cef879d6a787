#include "load/classify.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace covid {
namespace {

Observation obs(std::string location, int d, int64_t cases, int64_t deaths = 0,
                int64_t recovered = kUnknown) {
  Observation o;
  o.location = std::move(location);
  o.date = date_from_ymd(2020, 4, unsigned(d));
  o.cases = cases;
  o.deaths = deaths;
  o.recovered = recovered;
  return o;
}

// "location/day:cases/deaths/recovered", "?" for unknown.
std::string show(const Observation& o) {
  auto n = [](int64_t v) { return v == kUnknown ? std::string("?") : std::to_string(v); };
  return o.location + "/" + std::to_string(o.date.days - date_from_ymd(2020, 4, 1).days + 1) + ":" +
         n(o.cases) + "/" + n(o.deaths) + "/" + n(o.recovered);
}
std::vector<std::string> show(const std::vector<Observation>& rows) {
  std::vector<std::string> out;
  for (const Observation& o : rows) out.push_back(show(o));
  return out;
}
std::vector<std::string> show(const std::vector<Revision>& revisions) {
  std::vector<std::string> out;
  for (const Revision& r : revisions) out.push_back(show(r.before) + " -> " + show(r.after));
  return out;
}

using Strings = std::vector<std::string>;

TEST(Classify, InsertedUpdatedUnchangedMissing) {
  std::vector<Observation> stored = {obs("US", 1, 10), obs("US", 2, 20), obs("US", 3, 30),
                                     obs("US", 4, 40)};
  std::vector<Observation> incoming = {obs("US", 2, 20), obs("US", 3, 31, 1), obs("US", 4, 40),
                                       obs("US", 5, 50)};
  ChangeSet c = classify(stored, incoming);
  EXPECT_EQ(show(c.inserted), Strings{"US/5:50/0/?"});
  EXPECT_EQ(show(c.updated), Strings{"US/3:30/0/? -> US/3:31/1/?"});
  EXPECT_EQ(c.unchanged, 2u);
  EXPECT_EQ(show(c.missing), Strings{"US/1:10/0/?"});
  EXPECT_FALSE(c.empty());
}

TEST(Classify, UnknownAndZeroAreDifferent) {
  struct Case {
    int64_t before, after;
    bool updated;
  };
  const Case cases[] = {
      {kUnknown, 0, true}, {0, kUnknown, true}, {kUnknown, kUnknown, false},
      {0, 0, false},       {5, 6, true},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(std::to_string(k.before) + " -> " + std::to_string(k.after));
    ChangeSet c = classify({obs("US", 1, 10, 1, k.before)}, {obs("US", 1, 10, 1, k.after)});
    EXPECT_EQ(c.updated.size(), k.updated ? 1u : 0u);
    EXPECT_EQ(c.unchanged, k.updated ? 0u : 1u);
    EXPECT_TRUE(c.inserted.empty());
    EXPECT_TRUE(c.missing.empty());
  }
}

TEST(Classify, EachCountIsCompared) {
  Observation base = obs("US", 1, 10, 1, 5);
  for (int which = 0; which < 3; ++which) {
    Observation changed = base;
    (which == 0 ? changed.cases : which == 1 ? changed.deaths : changed.recovered) += 1;
    ChangeSet c = classify({base}, {changed});
    ASSERT_EQ(c.updated.size(), 1u) << which;
    EXPECT_EQ(show(c.updated[0].before), "US/1:10/1/5");
    EXPECT_EQ(show(c.updated[0].after), show(changed));
  }
}

TEST(Classify, OtherLocationsAreNotMissing) {
  // Stored rows of "06" (sorts before US) and "ZZ" (after) are outside the incoming locations.
  std::vector<Observation> stored = {obs("06", 1, 1), obs("06", 2, 2), obs("US", 1, 10),
                                     obs("US", 2, 20), obs("ZZ", 1, 5)};
  std::vector<Observation> incoming = {obs("US", 2, 20), obs("US", 3, 30)};
  ChangeSet c = classify(stored, incoming);
  EXPECT_EQ(show(c.missing), Strings{"US/1:10/0/?"});
  EXPECT_EQ(show(c.inserted), Strings{"US/3:30/0/?"});
  EXPECT_EQ(c.unchanged, 1u);
  EXPECT_TRUE(c.updated.empty());
}

TEST(Classify, SeveralIncomingLocations) {
  std::vector<Observation> stored = {obs("06", 1, 1), obs("06", 2, 2), obs("36", 1, 3),
                                     obs("US", 1, 10)};
  std::vector<Observation> incoming = {obs("06", 2, 2), obs("US", 1, 11)};
  ChangeSet c = classify(stored, incoming);
  EXPECT_EQ(show(c.missing), Strings{"06/1:1/0/?"});  // not 36: it is not incoming
  EXPECT_EQ(show(c.updated), Strings{"US/1:10/0/? -> US/1:11/0/?"});
  EXPECT_EQ(c.unchanged, 1u);
  EXPECT_TRUE(c.inserted.empty());
}

TEST(Classify, EmptyInputs) {
  ChangeSet none = classify({}, {});
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.inserted.empty() && none.updated.empty() && none.missing.empty());
  EXPECT_EQ(none.unchanged, 0u);

  ChangeSet fresh = classify({}, {obs("US", 1, 1), obs("US", 2, 2)});
  EXPECT_EQ(show(fresh.inserted), (Strings{"US/1:1/0/?", "US/2:2/0/?"}));
  EXPECT_TRUE(fresh.missing.empty());
  EXPECT_FALSE(fresh.empty());

  ChangeSet nothing_incoming = classify({obs("US", 1, 1)}, {});
  EXPECT_TRUE(nothing_incoming.empty());
  EXPECT_TRUE(nothing_incoming.missing.empty());  // no incoming location: nothing compared
  EXPECT_EQ(nothing_incoming.unchanged, 0u);
}

// A count the source does not give (kAbsent: JHU has no row for the date) keeps the stored
// value; a count the source gives as unknown (kUnknown: the zero rule) replaces it.
TEST(Classify, AbsentKeepsTheStoredValue) {
  struct Case {
    int64_t stored, incoming;
    const char* updated;  // the revision, "" for none
    size_t missing_values;
  };
  const Case cases[] = {
      {5, kAbsent, "", 1},                             // known value kept, reported
      {kUnknown, kAbsent, "", 0},                      // nothing known: nothing lost
      {5, kUnknown, "US/1:10/1/5 -> US/1:10/1/?", 0},  // the source says unknown
      {5, 6, "US/1:10/1/5 -> US/1:10/1/6", 0},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(std::to_string(k.stored) + " <- " + std::to_string(k.incoming));
    ChangeSet c = classify({obs("US", 1, 10, 1, k.stored)}, {obs("US", 1, 10, 1, k.incoming)});
    EXPECT_EQ(show(c.updated), *k.updated ? Strings{k.updated} : Strings{});
    EXPECT_EQ(c.unchanged, *k.updated ? 0u : 1u);
    EXPECT_EQ(c.missing_values.size(), k.missing_values);
    if (k.missing_values) {
      EXPECT_EQ(show(c.missing_values[0]), "US/1:10/1/5");
    }
  }
  // With a revision of another count, the stored value still stands.
  ChangeSet c = classify({obs("US", 1, 10, 1, 5)}, {obs("US", 1, 11, 1, kAbsent)});
  EXPECT_EQ(show(c.updated), Strings{"US/1:10/1/5 -> US/1:11/1/5"});
  EXPECT_EQ(c.missing_values.size(), 1u);
  // A new row: absent is unknown.
  ChangeSet fresh = classify({}, {obs("US", 1, 10, 1, kAbsent)});
  EXPECT_EQ(show(fresh.inserted), Strings{"US/1:10/1/?"});
  EXPECT_TRUE(fresh.missing_values.empty());
}

TEST(Classify, UnchangedOnlyIsEmpty) {
  std::vector<Observation> rows = {obs("US", 1, 1), obs("US", 2, 2)};
  ChangeSet c = classify(rows, rows);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.unchanged, 2u);
}

}  // namespace
}  // namespace covid
