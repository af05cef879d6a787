// LoadPlan: the planning stage on its own, with no store: the store's rows are a map in the test
// (InMemoryView), a level's date blocks a vector (VectorBlocks), and apply() writes into a
// transaction that records what it is told (RecordingTransaction). The stores themselves are
// tested against the same plans in store_contract_test.cc and the integration tests.
#include "load/plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace covid {
namespace {

using Strings = std::vector<std::string>;

Date day(int d) { return date_from_ymd(2020, 4, unsigned(d)); }

Observation obs(std::string location, int d, int64_t cases, int64_t deaths = 0,
                int64_t recovered = kUnknown) {
  Observation o;
  o.location = std::move(location);
  o.date = day(d);
  o.cases = cases;
  o.deaths = deaths;
  o.recovered = recovered;
  return o;
}

// "location/day:cases/deaths/recovered", "?" for unknown.
std::string show(const Observation& o) {
  auto n = [](int64_t v) { return v == kUnknown ? std::string("?") : std::to_string(v); };
  return o.location + "/" + std::to_string(o.date.days - day(1).days + 1) + ":" + n(o.cases) + "/" +
         n(o.deaths) + "/" + n(o.recovered);
}
Strings show(const std::vector<Observation>& rows) {
  Strings out;
  for (const Observation& o : rows) out.push_back(show(o));
  return out;
}
Strings show(const std::vector<Revision>& revisions) {
  Strings out;
  for (const Revision& r : revisions) out.push_back(show(r.before) + " -> " + show(r.after));
  return out;
}

// The store's rows, in memory; counts the reads by date.
class InMemoryView final : public StoreView {
 public:
  explicit InMemoryView(std::vector<Observation> rows) : rows_(std::move(rows)) {
    std::sort(rows_.begin(), rows_.end(), by_location_date);
  }
  Result<std::vector<Observation>> existing_many(
      const std::vector<std::string>& locations) override {
    std::vector<Observation> out;
    for (const Observation& o : rows_) {
      if (std::binary_search(locations.begin(), locations.end(), o.location)) out.push_back(o);
    }
    return out;
  }
  Result<std::vector<Observation>> existing_on(Date date,
                                               const std::vector<std::string>& locations) override {
    ++date_reads;
    std::vector<Observation> out;
    for (const Observation& o : rows_) {
      if (o.date == date &&
          std::find(locations.begin(), locations.end(), o.location) != locations.end())
        out.push_back(o);
    }
    return out;
  }
  Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date) override {
    ++date_reads;
    std::vector<Observation> out;
    for (const Observation& o : rows_) {
      if (o.date == date && location_level(o.location) == level) out.push_back(o);
    }
    return out;
  }
  int date_reads = 0;

 private:
  std::vector<Observation> rows_;
};

// A level's rows by date, in memory.
class VectorBlocks final : public BlockSource {
 public:
  // Rows of any dates; `unkept` dates are given as not kept (their digest known before the run).
  explicit VectorBlocks(std::vector<Observation> rows, std::vector<int> unkept = {}) {
    std::sort(rows.begin(), rows.end(), [](const Observation& a, const Observation& b) {
      return a.date != b.date ? a.date < b.date : a.location < b.location;
    });
    for (Observation& o : rows) {
      if (blocks_.empty() || blocks_.back().date != o.date) {
        blocks_.emplace_back();
        blocks_.back().date = o.date;
        blocks_.back().kept = true;
        rows_.emplace_back();
      }
      blocks_.back().digest.add(o);
      rows_.back().push_back(std::move(o));
    }
    for (size_t i = 0; i < blocks_.size(); ++i) {
      for (int d : unkept) {
        if (blocks_[i].date == day(d)) blocks_[i].kept = false;
      }
    }
  }
  size_t block_count() const override { return blocks_.size(); }
  const DateBlockInfo& block(size_t i) const override { return blocks_[i]; }
  Result<std::vector<Observation>> read_block(size_t i) const override {
    ++reads;
    return rows_[i];
  }
  std::unique_ptr<RowCursor> merge_blocks(const std::vector<size_t>& blocks) const override {
    auto all = std::make_unique<Cursor>();
    for (size_t i : blocks) all->rows.insert(all->rows.end(), rows_[i].begin(), rows_[i].end());
    std::sort(all->rows.begin(), all->rows.end(), by_location_date);
    return all;
  }
  // The digests a store would hold after loading these blocks.
  std::map<Date, StoredDigest> digests() const {
    std::map<Date, StoredDigest> out;
    for (const DateBlockInfo& b : blocks_) out[b.date] = StoredDigest{b.digest, b.digest.rows, {}};
    return out;
  }
  mutable int reads = 0;

 private:
  struct Cursor final : RowCursor {
    std::vector<Observation> rows;
    size_t at = 0;
    Result<const Observation*> next() override { return at < rows.size() ? &rows[at++] : nullptr; }
  };
  std::vector<DateBlockInfo> blocks_;
  std::vector<std::vector<Observation>> rows_;
};

// Records what apply() writes.
class RecordingTransaction final : public LoadTransaction {
 public:
  Result<std::vector<Observation>> existing(std::string_view) override {
    return std::vector<Observation>();
  }
  Status write(int64_t, const ChangeSet& c) override {
    for (const Observation& o : c.inserted) calls.push_back("write insert " + show(o));
    for (const Revision& r : c.updated) calls.push_back("write update " + show(r.after));
    return Status::Ok();
  }
  Status insert_sorted(int64_t, RowCursor& rows) override {
    calls.push_back("insert_sorted");
    for (;;) {
      auto row = rows.next();
      if (!row.ok()) return row.status();
      if (*row == nullptr) return Status::Ok();
      inserted.push_back(show(**row));
    }
  }
  Status save_date_digests(std::string_view level,
                           const std::map<Date, StoredDigest>& digests) override {
    calls.push_back("digests " + std::string(level) + " " + std::to_string(digests.size()));
    return Status::Ok();
  }
  Status save_locations(const std::vector<Location>& locations) override {
    calls.push_back("locations " + std::to_string(locations.size()));
    return Status::Ok();
  }
  Status save_source(int64_t, const SourceState&) override { return Status::Ok(); }
  Status finish_run(const RunRecord&, const std::vector<OutboxMessage>&) override {
    return Status::Ok();
  }
  Status commit() override { return Status::Ok(); }

  Strings calls, inserted;
};

// Rows read into memory against the store's rows: one case per rule.
TEST(LoadPlan, RowsInMemory) {
  struct Case {
    const char* name;
    std::vector<Observation> stored, incoming;
    Strings inserted, updated, missing, missing_values;
    uint64_t unchanged;
  };
  const Case cases[] = {
      {"new dates are inserted",
       {obs("US", 1, 10)},
       {obs("US", 1, 10), obs("US", 2, 20), obs("US", 3, 30)},
       {"US/2:20/0/?", "US/3:30/0/?"},
       {},
       {},
       {},
       1},
      {"a revised row keeps its old and new values",
       {obs("US", 1, 10), obs("US", 2, 20)},
       {obs("US", 1, 10), obs("US", 2, 21, 1)},
       {},
       {"US/2:21/1/?"},
       {},
       {},
       1},
      {"a date the source no longer has is missing, and kept",
       {obs("US", 1, 10), obs("US", 2, 20)},
       {obs("US", 2, 20)},
       {},
       {},
       {"US/1:10/0/?"},
       {},
       1},
      {"a value the source no longer gives is kept, as missing",
       {obs("US", 1, 10, 1, 5)},
       {obs("US", 1, 10, 1, kAbsent)},
       {},
       {},
       {},
       {"US/1:10/1/5"},
       1},
      {"another location's rows are not missing",
       {obs("06", 1, 10)},
       {obs("US", 1, 10)},
       {"US/1:10/0/?"},
       {},
       {},
       {},
       0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    InMemoryView view(c.stored);
    PlanInput in;
    in.rows = c.incoming;
    auto plan = plan_load(view, in);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_EQ(show(plan->changes.inserted), c.inserted);
    Strings updated;
    for (const Revision& r : plan->changes.updated) updated.push_back(show(r.after));
    EXPECT_EQ(updated, c.updated);
    EXPECT_EQ(show(plan->changes.missing), c.missing);
    EXPECT_EQ(show(plan->changes.missing_values), c.missing_values);
    EXPECT_EQ(plan->unchanged(), c.unchanged);
    EXPECT_EQ(plan->changed(), !c.inserted.empty() || !c.updated.empty());
  }
}

// A level read as date blocks, against the digests the store kept.
TEST(LoadPlan, DateBlocks) {
  // The store: days 1-3 of two counties.
  const std::vector<Observation> stored = {obs("01001", 1, 1), obs("01003", 1, 2),
                                           obs("01001", 2, 3), obs("01003", 2, 4),
                                           obs("01001", 3, 5), obs("01003", 3, 6)};
  const std::map<Date, StoredDigest> digests = VectorBlocks(stored).digests();
  struct Case {
    const char* name;
    std::vector<Observation> incoming;
    std::vector<int> unkept;  // blocks given as unchanged without their rows
    uint64_t inserted, updated, unchanged, missing;
    size_t fresh, skipped, block_reads;
    Strings revised, missing_dates;
  };
  const Case cases[] = {
      {"an unchanged date is skipped without reading it",
       stored,
       {1, 2, 3},
       0,
       0,
       6,
       0,
       0,
       3,
       0,
       {},
       {}},
      {"a new date is fresh: inserted without comparing",
       {obs("01001", 1, 1), obs("01003", 1, 2), obs("01001", 2, 3), obs("01003", 2, 4),
        obs("01001", 3, 5), obs("01003", 3, 6), obs("01001", 4, 7), obs("01003", 4, 8)},
       {1, 2, 3},
       2,
       0,
       6,
       0,
       1,
       3,
       0,
       {},
       {}},
      {"a revised date is compared row by row",
       {obs("01001", 1, 1), obs("01003", 1, 2), obs("01001", 2, 3), obs("01003", 2, 9),
        obs("01001", 3, 5), obs("01003", 3, 6)},
       {1, 3},
       0,
       1,
       5,
       0,
       0,
       2,
       1,
       {"01003/2:9/0/?"},
       {}},
      {"a row dropped from a date is missing, and kept",
       {obs("01001", 1, 1), obs("01003", 1, 2), obs("01001", 2, 3), obs("01001", 3, 5),
        obs("01003", 3, 6)},
       {1, 3},
       0,
       0,
       5,
       1,
       0,
       2,
       1,
       {},
       {"2020-04-02"}},
      {"a whole date the source dropped is missing, and kept",
       {obs("01001", 1, 1), obs("01003", 1, 2), obs("01001", 2, 3), obs("01003", 2, 4)},
       {1, 2},
       0,
       0,
       4,
       2,
       0,
       2,
       0,
       {},
       {"2020-04-03"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    InMemoryView view(stored);
    VectorBlocks blocks(c.incoming, c.unkept);
    PlanInput in;
    in.blocks.push_back({"county", &blocks, digests, 2});
    auto plan = plan_load(view, in);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    const LevelCounts& l = plan->levels.at("county");
    EXPECT_EQ(l.inserted, c.inserted);
    EXPECT_EQ(l.updated, c.updated);
    EXPECT_EQ(l.unchanged, c.unchanged);
    EXPECT_EQ(l.missing, c.missing);
    ASSERT_EQ(plan->blocks.size(), 1u);
    EXPECT_EQ(plan->blocks[0].fresh.size(), c.fresh);
    EXPECT_EQ(plan->blocks[0].skipped.size(), c.skipped);
    EXPECT_EQ(blocks.reads, int(c.block_reads));
    EXPECT_EQ(view.date_reads, int(c.block_reads) + (c.missing > 0 && c.block_reads > 0 ? 1 : 0));
    EXPECT_EQ(show(plan->blocks[0].changes.updated).size(), c.revised.size());
    Strings revised;
    for (const Revision& r : plan->blocks[0].changes.updated) revised.push_back(show(r.after));
    EXPECT_EQ(revised, c.revised);
    Strings missing_dates;
    for (Date d : plan->blocks[0].missing_dates) missing_dates.push_back(format_date(d));
    EXPECT_EQ(missing_dates, c.missing_dates);
    // Only the dates that changed get new digests.
    EXPECT_EQ(plan->digests.at("county").size(), c.fresh + c.block_reads);
  }
}

TEST(LoadPlan, ADateChangedByAnotherRunMeanwhileIsAnError) {
  const std::vector<Observation> stored = {obs("01001", 1, 1)};
  InMemoryView view(stored);
  VectorBlocks blocks({obs("01001", 1, 2)}, {1});  // not kept: its digest was the stored one
  PlanInput in;
  in.blocks.push_back({"county", &blocks, VectorBlocks(stored).digests(), 1});
  auto plan = plan_load(view, in);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("another run changed the county rows of 2020-04-01"),
            std::string::npos)
      << plan.status().message();
}

// Digests absent: a level read into memory (the store has none for it yet) gets the digests of
// all its dates, missing rows counted among the rows held.
TEST(LoadPlan, DigestsAbsentAreComputedFromTheRows) {
  InMemoryView view({obs("01001", 1, 1), obs("01001", 2, 2)});
  PlanInput in;
  in.rows = {obs("01001", 2, 2), obs("01003", 2, 5), obs("01001", 3, 3), obs("US", 3, 9)};
  in.digest_levels = {"county"};
  auto plan = plan_load(view, in);
  ASSERT_TRUE(plan.ok());
  const auto& d = plan->digests.at("county");
  ASSERT_EQ(d.size(), 3u);  // day 1 (missing only), 2 and 3; the nation's row is not a county's
  EXPECT_EQ(d.at(day(1)).source.rows, 0u);
  EXPECT_EQ(d.at(day(1)).stored_rows, 1u);
  EXPECT_EQ(d.at(day(2)).source.rows, 2u);
  EXPECT_EQ(d.at(day(3)).stored_rows, 1u);
  DateDigest two;
  two.add(obs("01001", 2, 2));
  two.add(obs("01003", 2, 5));
  EXPECT_TRUE(d.at(day(2)).source.same_content(two));
  EXPECT_EQ(plan->levels.at("county").inserted, 2u);
  EXPECT_EQ(plan->levels.at("nation").inserted, 1u);
}

// A renamed county: its new name is among the locations to save, and its series is kept as is.
TEST(LoadPlan, ARenamedCountyKeepsItsSeries) {
  InMemoryView view({obs("01001", 1, 1)});
  PlanInput in;
  in.rows = {obs("01001", 1, 1), obs("01001", 2, 2)};
  in.locations = {Location{"01001", "county", "Autauga (renamed)", "Alabama", "01001"}};
  auto plan = plan_load(view, in);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->locations.size(), 1u);
  EXPECT_EQ(plan->locations[0].name, "Autauga (renamed)");
  EXPECT_EQ(show(plan->changes.inserted), Strings{"01001/2:2/0/?"});
  EXPECT_TRUE(plan->changes.missing.empty());
  EXPECT_EQ(plan->changes.unchanged, 1u);
}

// apply(): locations first, every level's new rows in one stream in key order (a state's rows
// before its counties', the nation's last), then revisions, then digests.
TEST(LoadPlan, ApplyInsertsEveryLevelInOneStreamInKeyOrder) {
  InMemoryView view({obs("01", 1, 1), obs("01001", 1, 1)});
  VectorBlocks counties({obs("01001", 1, 1), obs("01001", 2, 2), obs("02013", 2, 3)});
  PlanInput in;
  in.rows = {obs("01", 1, 2), obs("01", 2, 3), obs("02", 2, 4), obs("US", 2, 9)};
  in.locations = {Location{"02", "state", "Alaska", "", "02"}};
  in.blocks.push_back({"county", &counties, VectorBlocks({obs("01001", 1, 1)}).digests(), 2});
  auto plan = plan_load(view, in);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  RecordingTransaction t;
  ASSERT_TRUE(apply(t, 7, *plan).ok());
  EXPECT_EQ(t.calls, (Strings{"locations 1", "insert_sorted", "write update 01/1:2/0/?",
                              "digests county 1"}));
  EXPECT_EQ(t.inserted,
            (Strings{"01/2:3/0/?", "01001/2:2/0/?", "02/2:4/0/?", "02013/2:3/0/?", "US/2:9/0/?"}));
  EXPECT_EQ(plan->levels.at("county").locations_changed, 2u);  // completed by apply
  EXPECT_EQ(plan->inserted(), 5u);
  EXPECT_EQ(plan->updated(), 1u);
  EXPECT_NE(to_text(*plan).find("county: 2 to insert, 0 to revise, 1 unchanged, 0 missing; "
                                "dates: 1 new, 1 unchanged (skipped)"),
            std::string::npos)
      << to_text(*plan);
}

}  // namespace
}  // namespace covid
