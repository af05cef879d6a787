// Suggestions for a mistyped name: the valid names nearest to what was typed, by edit distance
// (optimal string alignment: insertions, deletions, substitutions and swaps of two neighbours
// each cost 1; ASCII case ignored). Used by every message that refuses a name: the command
// line's sub-commands and flags (app/), the configuration's keys (config/) and locations given by
// name (serve/locations.h). Where the edit distance finds nothing, a caller may give a table of
// well-known aliases (names users of other tools type: `--port` for `--listen`). Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace covid {

// The edit distance between a and b, ASCII case ignored.
size_t edit_distance(std::string_view a, std::string_view b);

// How far a name may be from what was typed to be suggested: 1 for up to 4 characters, 2 for up
// to 8, 3 beyond ("runn" -> run, "state" -> states, "--nyy" -> --nyt).
size_t suggestion_distance(std::string_view typed);

// The names within suggestion_distance(typed) of `typed`, nearest first (ties in the given
// order), at most `limit`.
std::vector<std::string> nearest_names(std::string_view typed,
                                       const std::vector<std::string>& names, size_t limit = 3);

// " (did you mean 'x'?)" or " (did you mean 'x' or 'y'?)" for the nearest names, "" for none: to
// append to a message that refuses `typed`.
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& names);

// A name users of other tools type, and what to suggest for it: the name of ours it stands for,
// optionally followed by a space and the form of its value ("--listen HOST:PORT").
struct KnownAlias {
  std::string_view typed;
  std::string_view meant;
};

// did_you_mean(typed, names); when no name is near `typed`, the first alias whose `typed` is
// `typed` (ASCII case ignored) and whose name meant is among `names` (an alias of a name that is
// not valid here is never offered): " (did you mean '--listen HOST:PORT'?)"; "" for neither.
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& names,
                         std::span<const KnownAlias> aliases);

}  // namespace covid
