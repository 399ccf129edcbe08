//===- wordcount.cpp - Count words with a fan-out over lines --------------===//
//
// A document is a list of lines. `count_words` has its own resource profile
// and counts one line; `count` fans it out over every line of a document with
// `cleave::parallel_map`, joins the counts in input order and only then
// updates the state: how many documents were counted and how often each word
// occurred. A line that cannot be counted fails the whole document (500)
// before any state changes.
//
// A word is a maximal run of ASCII letters and digits and of non-ASCII
// characters (so "Zoë" and "naïve" are one word each), with an apostrophe
// allowed between two such characters ("don't"). Lengths are counted in
// characters (UTF-8 code points), not bytes. Frequencies are kept per word
// in ASCII lower case.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

struct WordStats {
  int words = 0;
  int chars = 0;       // every character of the line, blanks included
  std::string longest; // the first of the longest words, as written
};

struct Summary {
  long words = 0;
  long chars = 0;
  std::vector<int> per_line; // words per line, in input order
  std::string longest;       // the first of the longest words of all lines
  long document = 0;         // this document's number, from 1
};

struct WordCount {
  std::string word;
  long count = 0;
};

CLEAVE_STATE() long documents = 0;
CLEAVE_STATE() std::map<std::string, long> frequency;

static bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c >= 0x80;
}

/// The number of UTF-8 code points in \p s: every byte but continuations.
static int length(const std::string &s) {
  int n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

static std::string lower(std::string s) {
  for (char &c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return s;
}

/// The words of \p line, as written, in order.
static std::vector<std::string> split_words(const std::string &line) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = line[i];
    bool inner_apostrophe =
        c == '\'' && !word.empty() && i + 1 < line.size() &&
        is_word_byte(static_cast<unsigned char>(line[i + 1]));
    if (is_word_byte(c) || inner_apostrophe) {
      word += line[i];
      continue;
    }
    if (!word.empty())
      words.push_back(word);
    word.clear();
  }
  if (!word.empty())
    words.push_back(word);
  return words;
}

/// Counts the words and characters of one line.
CLEAVE_FUNCTION("memory=512") WordStats count_words(const std::string &line) {
  if (line.find_first_of("\r\n") != std::string::npos)
    throw std::invalid_argument("a line cannot contain a line break");
  WordStats stats;
  stats.chars = length(line);
  for (const std::string &word : split_words(line)) {
    ++stats.words;
    if (length(word) > length(stats.longest))
      stats.longest = word;
  }
  return stats;
}

/// Counts a document: every line is counted by its own invocation of
/// `count_words`, then the counts are summed and the frequencies updated.
CLEAVE_ENTRY("POST /count") Summary count(std::vector<std::string> lines) {
  auto per_line = cleave::parallel_map(lines, count_words);
  Summary summary;
  for (size_t i = 0; i < per_line.size(); ++i) {
    summary.words += per_line[i].words;
    summary.chars += per_line[i].chars;
    summary.per_line.push_back(per_line[i].words);
    if (length(per_line[i].longest) > length(summary.longest))
      summary.longest = per_line[i].longest;
    for (const std::string &word : split_words(lines[i]))
      ++frequency[lower(word)];
  }
  ++documents;
  summary.document = documents;
  return summary;
}

/// Counts one line without recording anything.
CLEAVE_ENTRY("GET /words") WordStats words_of(std::string line) {
  return count_words(line);
}

/// How often \p word occurred in the documents counted so far, in any case.
CLEAVE_ENTRY("GET /frequency") long frequency_of(std::string word) {
  auto it = frequency.find(lower(word));
  return it == frequency.end() ? 0 : it->second;
}

static bool more_frequent(const WordCount &a, const WordCount &b) {
  return a.count != b.count ? a.count > b.count : a.word < b.word;
}

/// The \p n most frequent words, most frequent first, ties in alphabetical
/// order.
CLEAVE_ENTRY("GET /top") std::vector<WordCount> top(int n) {
  if (n < 0)
    throw std::invalid_argument("n must not be negative");
  std::vector<WordCount> all;
  for (const auto &[word, times] : frequency)
    all.push_back({word, times});
  std::sort(all.begin(), all.end(), more_frequent);
  if (all.size() > static_cast<size_t>(n))
    all.resize(static_cast<size_t>(n));
  return all;
}

CLEAVE_ENTRY("GET /documents") long documents_counted() { return documents; }

int main() {
  Summary s = count({"The quick brown fox", "jumps over   the lazy dog."});
  std::cout << "document " << s.document << ": " << s.words << " words, "
            << s.chars << " characters, longest '" << s.longest << "'\n";
  for (const WordCount &w : top(3))
    std::cout << "  " << w.word << ": " << w.count << "\n";
  try {
    count({"one\ntwo"});
  } catch (const std::invalid_argument &e) {
    std::cout << "refused: " << e.what() << "\n";
  }
  return 0;
}
