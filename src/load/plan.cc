#include "load/plan.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "transform/annotation.h"

namespace covid {
namespace {

// The stored rows of one date whose location the source no longer has on that date (both
// sorted by location). classify() does not see them: it compares the locations of `incoming`.
std::vector<Observation> dropped(const std::vector<Observation>& stored,
                                 const std::vector<Observation>& incoming) {
  std::vector<Observation> out;
  auto in = incoming.begin();
  for (const Observation& o : stored) {
    while (in != incoming.end() && in->location < o.location) ++in;
    if (in == incoming.end() || in->location != o.location) out.push_back(o);
  }
  return out;
}

std::vector<std::string> distinct_locations(const std::vector<Observation>& rows) {
  std::vector<std::string> out;
  for (const Observation& o : rows) {
    if (out.empty() || out.back() != o.location) out.push_back(o.location);
  }
  return out;
}

void note_change(LevelCounts& c, Date date) {
  std::string d = format_date(date);
  if (d > c.last_changed) c.last_changed = d;
}

// The digests of a level's dates from its rows read into memory: the rows the source gave per
// date, and the rows held per date, missing ones included.
std::map<Date, StoredDigest> digests_of(std::string_view level,
                                        const std::vector<Observation>& rows,
                                        const std::vector<Observation>& missing) {
  std::map<Date, StoredDigest> out;
  for (const Observation& o : rows) {
    if (location_level(o.location) != level) continue;
    StoredDigest& d = out[o.date];
    d.source.add(o);
    ++d.stored_rows;
  }
  for (const Observation& o : missing) {
    if (location_level(o.location) == level) ++out[o.date].stored_rows;
  }
  return out;
}

// One level's date blocks against the store's digests.
Status plan_blocks(StoreView& view, const PlanInput::Blocks& in, LoadPlan& plan) {
  LoadPlan::BlockLevel& out = plan.blocks.emplace_back();
  out.level = in.level;
  out.source = in.source;
  LevelCounts& counts = plan.levels[in.level];
  counts.locations = in.locations;
  std::map<Date, StoredDigest>& save = plan.digests[in.level];
  std::set<Date> in_source;
  for (size_t i = 0; i < in.source->block_count(); ++i) {
    const DateBlockInfo& b = in.source->block(i);
    in_source.insert(b.date);
    auto s = in.stored.find(b.date);
    if (s != in.stored.end() && s->second.source.same_content(b.digest)) {
      counts.unchanged += b.digest.rows;
      out.skipped.push_back(b.date);
      if (b.bytes && s->second.bytes != b.bytes) {  // the same rows in other bytes, or not kept yet
        save[b.date] = s->second;
        save[b.date].bytes = b.bytes;
      }
      continue;
    }
    if (!b.kept) {
      return Status::Load("another run changed the " + in.level + " rows of " +
                          format_date(b.date) + " while this one read its sources; run again");
    }
    if (s == in.stored.end()) {
      out.fresh.push_back(i);
      counts.inserted += b.digest.rows;
      note_change(counts, b.date);
      save[b.date] = StoredDigest{b.digest, b.digest.rows, b.bytes};
      continue;
    }
    auto incoming = in.source->read_block(i);
    if (!incoming.ok()) return incoming.status();
    std::vector<std::string> locations;
    locations.reserve(incoming->size());
    for (const Observation& o : *incoming) locations.push_back(o.location);
    auto before = view.existing_on(b.date, locations);
    if (!before.ok()) return before.status();
    if (before->size() < s->second.stored_rows) {  // the store has rows the source dropped
      before = view.existing_on_date(in.level, b.date);
      if (!before.ok()) return before.status();
    }
    ChangeSet c = classify(*before, *incoming);
    c.missing = dropped(*before, *incoming);
    counts.inserted += c.inserted.size();
    counts.updated += c.updated.size();
    counts.unchanged += c.unchanged;
    counts.missing += c.missing.size();
    if (!c.missing.empty()) out.missing_dates.push_back(b.date);
    for (const Observation& o : c.inserted) out.changed.insert(o.location);
    for (const Revision& r : c.updated) out.changed.insert(r.after.location);
    if (!c.empty()) note_change(counts, b.date);
    save[b.date] = StoredDigest{b.digest, incoming->size() + c.missing.size(), b.bytes};
    std::move(c.inserted.begin(), c.inserted.end(), std::back_inserter(out.changes.inserted));
    std::move(c.updated.begin(), c.updated.end(), std::back_inserter(out.changes.updated));
    out.changes.unchanged += c.unchanged;
    std::move(c.missing.begin(), c.missing.end(), std::back_inserter(out.changes.missing));
  }
  // Whole dates the source no longer has: their rows are kept, and reported.
  for (const auto& [date, d] : in.stored) {
    if (!in_source.count(date) && d.stored_rows > 0) {
      counts.missing += d.stored_rows;
      out.missing_dates.push_back(date);
    }
  }
  std::sort(out.missing_dates.begin(), out.missing_dates.end());
  counts.locations_changed = out.changed.size();
  return Status::Ok();
}

// The rows of a sorted vector, as a cursor.
class VectorRows final : public RowCursor {
 public:
  explicit VectorRows(const std::vector<Observation>& rows) : rows_(rows) {}
  Result<const Observation*> next() override {
    return at_ < rows_.size() ? &rows_[at_++] : nullptr;
  }

 private:
  const std::vector<Observation>& rows_;
  size_t at_ = 0;
};

// Several cursors in (location, date) order, merged into one; `seen[i]` (when set) gets the
// locations cursor i gives.
class MergedRows final : public RowCursor {
 public:
  struct Input {
    std::unique_ptr<RowCursor> rows;
    std::unordered_set<std::string>* seen = nullptr;
    const Observation* head = nullptr;
    bool started = false;
    std::string last;  // the last location noted in `seen`
  };
  static Input input(std::unique_ptr<RowCursor> rows,
                     std::unordered_set<std::string>* seen = nullptr) {
    Input in;
    in.rows = std::move(rows);
    in.seen = seen;
    return in;
  }
  explicit MergedRows(std::vector<Input> inputs) : inputs_(std::move(inputs)) {}

  // The row given stays its input's until that input moves on, at the next call: no copy.
  Result<const Observation*> next() override {
    if (given_ != nullptr) COVID_RETURN_IF_ERROR(advance(*given_));
    given_ = nullptr;
    for (Input& in : inputs_) {
      if (!in.started) {
        in.started = true;
        COVID_RETURN_IF_ERROR(advance(in));
      }
      if (in.head != nullptr && (given_ == nullptr || by_location_date(*in.head, *given_->head)))
        given_ = &in;
    }
    return given_ != nullptr ? given_->head : nullptr;
  }

 private:
  static Status advance(Input& in) {
    auto row = in.rows->next();
    if (!row.ok()) return row.status();
    in.head = *row;
    // Rows come grouped by location: each location is noted once.
    if (in.head != nullptr && in.seen != nullptr && in.head->location != in.last) {
      in.last = in.head->location;
      in.seen->insert(in.last);
    }
    return Status::Ok();
  }

  std::vector<Input> inputs_;
  Input* given_ = nullptr;  // the input of the row given last
};

// The populations read against the store's: those to save, and their counts.
Status plan_populations(StoreView& view, const std::vector<Population>& in, LoadPlan& plan) {
  if (in.empty()) return Status::Ok();
  auto stored = view.populations();
  if (!stored.ok()) return stored.status();
  std::map<std::string, const Population*> by_id;
  for (const Population& p : *stored) by_id.emplace(p.location, &p);
  LevelCounts& c = plan.levels[kPopulationsLevel];
  std::set<std::string> given;
  for (const Population& p : in) {
    if (!given.insert(p.location).second) continue;  // a reader gives each location once
    ++c.locations;
    auto it = by_id.find(p.location);
    if (it == by_id.end()) {
      ++c.inserted;
    } else if (it->second->population != p.population || it->second->source != p.source ||
               it->second->year != p.year) {
      ++c.updated;
    } else {
      ++c.unchanged;
      continue;
    }
    plan.populations.push_back(p);
  }
  for (const auto& [id, p] : by_id) c.missing += !given.count(id);
  c.locations_changed = plan.populations.size();
  return Status::Ok();
}

// The annotations read against the store's, by key (both sorted by key).
Status plan_annotations(StoreView& view, std::vector<Annotation> incoming, LoadPlan& plan) {
  auto stored = view.existing_annotations();
  if (!stored.ok()) return stored.status();
  LoadPlan::Annotations& out = plan.annotations;
  LevelCounts& counts = plan.levels["annotations"];
  std::set<std::string> places;
  auto s = stored->begin();
  for (Annotation& a : incoming) {
    places.insert(a.location);
    while (s != stored->end() && annotation_key_less(*s, a)) out.missing.push_back(*s++);
    bool known = s != stored->end() && same_annotation_key(*s, a);
    if (known && same_annotation(*s, a)) {
      ++out.unchanged;
    } else {
      note_change(counts, a.to.value_or(a.from));
      (known ? out.revised : out.inserted).push_back(std::move(a));
    }
    if (known) ++s;
  }
  while (s != stored->end()) out.missing.push_back(*s++);
  counts.locations = places.size();
  counts.inserted = out.inserted.size();
  counts.updated = out.revised.size();
  counts.unchanged = out.unchanged;
  counts.missing = out.missing.size();
  counts.locations_changed = counts.inserted + counts.updated;
  return Status::Ok();
}

}  // namespace

Result<std::vector<Observation>> StoreReadView::existing_many(
    const std::vector<std::string>& locations) {
  std::vector<Observation> all;
  for (const std::string& location : locations) {
    auto rows = store_.read_series(location, std::nullopt, std::nullopt);
    if (!rows.ok()) return rows.status();
    all.insert(all.end(), std::make_move_iterator(rows->begin()),
               std::make_move_iterator(rows->end()));
  }
  return all;
}

Result<std::vector<Observation>> StoreReadView::existing_on(
    Date date, const std::vector<std::string>& locations) {
  std::vector<Observation> out;
  for (const std::string& location : locations) {
    auto rows = store_.read_series(location, date, date);
    if (!rows.ok()) return rows.status();
    out.insert(out.end(), std::make_move_iterator(rows->begin()),
               std::make_move_iterator(rows->end()));
  }
  return out;
}

Result<std::vector<Observation>> StoreReadView::existing_on_date(std::string_view level,
                                                                 Date date) {
  auto all = store_.list_locations();
  if (!all.ok()) return all.status();
  std::vector<std::string> ids;
  for (const Location& l : *all) {
    if (l.type == level) ids.push_back(l.id);
  }
  return existing_on(date, ids);
}

std::map<std::string, LevelCounts> count_levels(const ChangeSet& c,
                                                const std::vector<Observation>& rows) {
  std::map<std::string, LevelCounts> out;
  std::map<std::string, std::set<std::string>> changed;
  const std::string* previous = nullptr;
  for (const Observation& o : rows) {
    LevelCounts& l = out[location_level(o.location)];
    if (previous == nullptr || *previous != o.location) ++l.locations;
    ++l.unchanged;
    previous = &o.location;
  }
  // The rows of a change set come sorted by location: its level and set are looked up once per
  // location, not once per row.
  const std::string* last = nullptr;
  LevelCounts* l = nullptr;
  auto change = [&](const Observation& o, uint64_t LevelCounts::*field) {
    if (last == nullptr || *last != o.location) {
      l = &out[location_level(o.location)];
      changed[location_level(o.location)].insert(o.location);
      last = &o.location;
    }
    ++(l->*field);
    --l->unchanged;
    note_change(*l, o.date);
  };
  for (const Observation& o : c.inserted) change(o, &LevelCounts::inserted);
  last = nullptr;
  for (const Revision& r : c.updated) change(r.after, &LevelCounts::updated);
  for (const Observation& o : c.missing) ++out[location_level(o.location)].missing;
  for (const Observation& o : c.missing_values) ++out[location_level(o.location)].missing;
  for (auto& [level, l] : out) l.locations_changed = changed[level].size();
  return out;
}

bool LoadPlan::changed() const { return inserted() > 0 || updated() > 0 || !populations.empty(); }

uint64_t LoadPlan::inserted() const {
  uint64_t n = changes.inserted.size() + annotations.inserted.size();
  for (const BlockLevel& b : blocks) n += levels.at(b.level).inserted;
  return n;
}
uint64_t LoadPlan::updated() const {
  uint64_t n = changes.updated.size() + annotations.revised.size();
  for (const BlockLevel& b : blocks) n += levels.at(b.level).updated;
  return n;
}
uint64_t LoadPlan::unchanged() const {
  uint64_t n = changes.unchanged + annotations.unchanged;
  for (const BlockLevel& b : blocks) n += levels.at(b.level).unchanged;
  return n;
}
uint64_t LoadPlan::missing() const {
  uint64_t n = changes.missing.size() + changes.missing_values.size() + annotations.missing.size();
  for (const BlockLevel& b : blocks) n += levels.at(b.level).missing;
  return n;
}

// The cadence rule (see plan.h): an error for a source whose cadence is not the store's.
Status check_cadence(const PlanInput::Dataset& d) {
  auto name = [](int days) {
    return days == 1   ? std::string("daily")
           : days == 7 ? std::string("weekly")
                       : "every " + std::to_string(days) + " days";
  };
  if (d.replace || d.days == 0 || !d.stored || *d.stored == d.days) return Status::Ok();
  return Status::InvalidData(
      d.name + ": the source's series are " + name(d.days) + " (" + std::to_string(d.days) +
      (d.days == 1 ? " day" : " days") + " between dates) but the database holds " +
      name(*d.stored) +
      " ones; a series is never mixed. To start the dataset over from this "
      "source, run again with --replace-dataset " +
      d.name +
      " (its stored rows are deleted and this source's loaded, in one transaction); nothing "
      "was loaded");
}

Status plan_datasets(const PlanInput& input, LoadPlan& plan) {
  for (const PlanInput::Dataset& d : input.datasets) {
    if (d.replace) {
      plan.replace_levels.push_back(d.level);
      if (d.days > 0) plan.cadences[d.name] = d.days;
      continue;
    }
    if (d.days == 0) continue;
    COVID_RETURN_IF_ERROR(check_cadence(d));
    if (!d.stored) plan.cadences[d.name] = d.days;
  }
  return Status::Ok();
}

Result<LoadPlan> plan_load(StoreView& view, PlanInput input) {
  LoadPlan plan;
  COVID_RETURN_IF_ERROR(plan_datasets(input, plan));
  // A level being replaced is compared with nothing: every row of it is new.
  std::vector<std::string> compared = distinct_locations(input.rows);
  if (!plan.replace_levels.empty()) {
    std::erase_if(compared, [&](const std::string& id) {
      return std::find(plan.replace_levels.begin(), plan.replace_levels.end(),
                       location_level(id)) != plan.replace_levels.end();
    });
  }
  auto stored = view.existing_many(compared);
  if (!stored.ok()) return stored.status();
  plan.changes = classify(*stored, input.rows);
  plan.levels = count_levels(plan.changes, input.rows);
  for (const std::string& level : input.digest_levels)
    plan.digests[level] = digests_of(level, input.rows, plan.changes.missing);
  for (const PlanInput::Blocks& b : input.blocks) COVID_RETURN_IF_ERROR(plan_blocks(view, b, plan));
  COVID_RETURN_IF_ERROR(plan_populations(view, input.reference.populations, plan));
  if (!input.reference.annotations.empty()) {
    COVID_RETURN_IF_ERROR(plan_annotations(view, std::move(input.reference.annotations), plan));
  }
  plan.locations = std::move(input.locations);
  plan.rows = std::move(input.rows);
  return plan;
}

Status apply_annotations(LoadTransaction& t, int64_t run_id, const LoadPlan::Annotations& a) {
  if (a.inserted.empty() && a.revised.empty()) return Status::Ok();
  std::vector<Annotation> changed = a.inserted;
  changed.insert(changed.end(), a.revised.begin(), a.revised.end());
  std::sort(changed.begin(), changed.end(), annotation_key_less);
  return t.save_annotations(run_id, changed);
}

Status apply(LoadTransaction& t, int64_t run_id, LoadPlan& plan) {
  for (const std::string& level : plan.replace_levels) {
    auto deleted = t.delete_level(level);
    if (!deleted.ok()) return deleted.status();
    plan.levels[level].replaced = *deleted;
  }
  if (!plan.locations.empty()) COVID_RETURN_IF_ERROR(t.save_locations(plan.locations));
  // Every new row, of every level, in one stream in key order.
  std::vector<MergedRows::Input> inputs;
  if (!plan.changes.inserted.empty())
    inputs.push_back(MergedRows::input(std::make_unique<VectorRows>(plan.changes.inserted)));
  for (LoadPlan::BlockLevel& b : plan.blocks) {
    if (!b.fresh.empty())
      inputs.push_back(MergedRows::input(b.source->merge_blocks(b.fresh), &b.changed));
  }
  if (inputs.size() == 1 && inputs.front().seen == nullptr) {
    COVID_RETURN_IF_ERROR(t.insert_sorted(run_id, *inputs.front().rows));
  } else if (!inputs.empty()) {
    MergedRows merged(std::move(inputs));
    COVID_RETURN_IF_ERROR(t.insert_sorted(run_id, merged));
  }
  if (!plan.changes.updated.empty()) {
    ChangeSet revised;
    revised.updated = plan.changes.updated;
    COVID_RETURN_IF_ERROR(t.write(run_id, revised));
  }
  for (LoadPlan::BlockLevel& b : plan.blocks) {
    if (!b.changes.empty()) COVID_RETURN_IF_ERROR(t.write(run_id, b.changes));
    plan.levels[b.level].locations_changed = b.changed.size();
  }
  for (const auto& [level, digests] : plan.digests)
    COVID_RETURN_IF_ERROR(t.save_date_digests(level, digests));
  if (!plan.populations.empty())
    COVID_RETURN_IF_ERROR(t.save_populations(run_id, plan.populations));
  COVID_RETURN_IF_ERROR(apply_annotations(t, run_id, plan.annotations));
  for (const auto& [dataset, days] : plan.cadences)
    COVID_RETURN_IF_ERROR(t.save_cadence(dataset, days));
  return Status::Ok();
}

std::string to_text(const LoadPlan& plan) {
  std::string out;
  for (const auto& [level, c] : plan.levels) {
    bool replacing = std::find(plan.replace_levels.begin(), plan.replace_levels.end(), level) !=
                     plan.replace_levels.end();
    out += level + ": " + (replacing ? "stored rows replaced; " : "") + std::to_string(c.inserted) +
           " to insert, " + std::to_string(c.updated) + " to revise, " +
           std::to_string(c.unchanged) + " unchanged, " + std::to_string(c.missing) + " missing";
    for (const LoadPlan::BlockLevel& b : plan.blocks) {
      if (b.level != level) continue;
      out += "; dates: " + std::to_string(b.fresh.size()) + " new, " +
             std::to_string(b.skipped.size()) + " unchanged (skipped)";
    }
    auto d = plan.digests.find(level);
    if (d != plan.digests.end() && !d->second.empty())
      out += "; " + std::to_string(d->second.size()) + " date digests to save";
    out += "\n";
  }
  return out;
}

}  // namespace covid
