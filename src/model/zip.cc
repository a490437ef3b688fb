#include "zip.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "lockstep/core/error.h"

namespace lockstep::zip {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr size_t kLocalHeaderSize = 30, kCentralHeaderSize = 46, kEndSize = 22;
// Deflate cannot expand data more than about 1032:1; a larger declared size is damage.
constexpr uint64_t kMaxDeflateRatio = 1032;
// Associated files are label maps and the like; a larger declared size is damage, not a file
// worth allocating for.
constexpr uint32_t kMaxEntrySize = 1u << 30;
// What is expanded: entries above the first cap, or past the second in all, are listed only.
constexpr uint64_t kMaxExpandedEntry = uint64_t{16} << 20, kMaxExpandedTotal = uint64_t{64} << 20;

uint32_t Le(std::span<const uint8_t> b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(b[at + i]) << (8 * i);
  return v;
}
uint16_t U16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(Le(b, at, 2)); }
uint32_t U32(std::span<const uint8_t> b, size_t at) { return Le(b, at, 4); }

void Put16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void Put32(std::vector<uint8_t>& out, uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}

uint32_t Crc(std::span<const uint8_t> data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large inputs in pieces.
  size_t done = 0;
  while (done < data.size()) {
    size_t n = std::min<size_t>(data.size() - done, 1u << 30);
    crc = crc32(crc, data.data() + done, static_cast<uInt>(n));
    done += n;
  }
  return static_cast<uint32_t>(crc);
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::vector<uint8_t> Inflate(std::span<const uint8_t> in, size_t size, const std::string& source,
                             const std::string& field) {
  std::vector<uint8_t> out(size);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)  // raw deflate, as zip stores it
    throw Error(source, field, "a deflate stream zlib can open", "zlib init failure");
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  size_t produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != size)
    throw Error(source, field, "a complete deflate stream of " + std::to_string(size) + " bytes",
                rc == Z_STREAM_END ? std::to_string(produced) + " bytes"
                                   : "a damaged stream (zlib code " + std::to_string(rc) + ")");
  return out;
}

const std::string kZipField = "associated files (zip appended to the model)";

// The End-Of-Central-Directory record: its comment must reach exactly to the end of the file,
// which keeps a chance "PK\5\6" inside model data from being taken for a zip. npos when none.
size_t FindEndRecord(std::span<const uint8_t> file) {
  size_t lowest = file.size() >= kEndSize + 0xffff ? file.size() - kEndSize - 0xffff : 0;
  for (size_t at = file.size() - kEndSize + 1; at-- > lowest;) {
    if (U32(file, at) == kEndOfCentralDirectory &&
        at + kEndSize + U16(file, at + 20) == file.size())
      return at;
  }
  return std::string::npos;
}

// Where the central directory is, how many entries it has, and what to add to the offsets it
// records to get file offsets.
struct CentralDirectory {
  size_t start = 0, end = 0;  // end: the end record
  int64_t shift = 0;
  uint16_t entries = 0;
};

CentralDirectory ReadEndRecord(std::span<const uint8_t> file, size_t end,
                               const std::string& source) {
  uint16_t entries = U16(file, end + 10);
  uint32_t cd_size = U32(file, end + 12), cd_offset = U32(file, end + 16);
  if (U16(file, end + 4) != 0 || U16(file, end + 6) != 0 || U16(file, end + 8) != entries)
    throw Error(source, kZipField, "a single-disk zip", "a multi-disk archive record");
  if (cd_offset == 0xffffffff || cd_size == 0xffffffff || entries == 0xffff)
    throw Error(source, kZipField, "a zip without ZIP64 records", "a ZIP64 archive");
  if (static_cast<uint64_t>(cd_size) > end)
    throw Error(source, kZipField + ".central_directory",
                "a central directory before the end record at byte " + std::to_string(end),
                std::to_string(cd_size) + " bytes");
  // Offsets should count from the start of the whole file (what the TFLite metadata writer
  // does); a zip whose offsets count from its own start is accepted too, as unzip does.
  size_t cd_start = end - cd_size;
  int64_t shift = static_cast<int64_t>(cd_start) - static_cast<int64_t>(cd_offset);
  if (shift < 0)
    throw Error(source, kZipField + ".central_directory.offset",
                "at most " + std::to_string(cd_start), std::to_string(cd_offset));
  return {cd_start, end, shift, entries};
}

// An entry's content, stored or deflated, with its declared sizes checked.
std::vector<uint8_t> EntryContent(std::span<const uint8_t> data, uint16_t method, uint32_t csize,
                                  uint32_t usize, const std::string& source,
                                  const std::string& field) {
  if (method == 0) {
    if (csize != usize)
      throw Error(source, field + ".uncompressed_size", std::to_string(csize) + " (a stored entry)",
                  std::to_string(usize));
    return {data.begin(), data.end()};
  }
  if (method == 8) {
    if (static_cast<uint64_t>(usize) > kMaxDeflateRatio * csize + 1024 || usize > kMaxEntrySize)
      throw Error(source, field + ".uncompressed_size",
                  "at most " + std::to_string(kMaxDeflateRatio) + "x the compressed size " +
                      std::to_string(csize) + " and at most 1 GiB",
                  std::to_string(usize));
    return Inflate(data, usize, source, field);
  }
  throw Error(source, field + ".compression_method", "0 (stored) or 8 (deflate)",
              std::to_string(method));
}

// Entry i, whose central directory header is at `at`; `at` moves on to the next header.
AssociatedFile ReadEntry(std::span<const uint8_t> file, const CentralDirectory& cd, uint16_t i,
                         size_t& at, uint64_t& expanded_total, const std::string& source) {
  const size_t end = cd.end, cd_start = cd.start;
  std::string field = kZipField + ".entries[" + std::to_string(i) + "]";
  if (at + kCentralHeaderSize > end || U32(file, at) != kCentralHeader)
    throw Error(source, field, "a central directory header (signature 0x02014b50)",
                at + kCentralHeaderSize > end ? "the end of the directory" : Hex(U32(file, at)));
  uint16_t flags = U16(file, at + 8), method = U16(file, at + 10);
  uint32_t crc = U32(file, at + 16), csize = U32(file, at + 20), usize = U32(file, at + 24);
  uint16_t name_len = U16(file, at + 28), extra_len = U16(file, at + 30),
           comment_len = U16(file, at + 32);
  uint32_t local = U32(file, at + 42);
  size_t next = at + kCentralHeaderSize + name_len + extra_len + comment_len;
  if (next > end)
    throw Error(source, field + ".name", "a name inside the directory", "a name past its end");
  AssociatedFile f;
  f.name.assign(reinterpret_cast<const char*>(file.data() + at + kCentralHeaderSize), name_len);
  field = kZipField + "[\"" + f.name + "\"]";
  if (flags & 1) throw Error(source, field, "an unencrypted entry", "an encrypted entry");

  uint64_t local_at = static_cast<uint64_t>(local) + static_cast<uint64_t>(cd.shift);
  if (local_at + kLocalHeaderSize > cd_start || U32(file, local_at) != kLocalHeader)
    throw Error(source, field + ".local_header_offset",
                "a local file header (signature 0x04034b50) before the central directory",
                local_at + kLocalHeaderSize > cd_start ? "offset " + std::to_string(local)
                                                       : Hex(U32(file, local_at)));
  uint64_t data_at =
      local_at + kLocalHeaderSize + U16(file, local_at + 26) + U16(file, local_at + 28);
  if (data_at + csize > cd_start)
    throw Error(source, field + ".compressed_size",
                "data ending before the central directory (byte " + std::to_string(cd_start) + ")",
                std::to_string(csize) + " bytes from byte " + std::to_string(data_at));
  at = next;
  if (method == 8 && (usize > kMaxExpandedEntry || expanded_total + usize > kMaxExpandedTotal)) {
    f.expanded = false;
    f.declared_size = usize;
    return f;
  }
  f.content = EntryContent(file.subspan(data_at, csize), method, csize, usize, source, field);
  expanded_total += f.content.size();
  if (Crc(f.content) != crc) throw Error(source, field + ".crc32", Hex(crc), Hex(Crc(f.content)));
  return f;
}

}  // namespace

std::vector<AssociatedFile> ReadAppended(std::span<const uint8_t> file, const std::string& source) {
  std::vector<AssociatedFile> files;
  if (file.size() < kEndSize) return files;
  const size_t end = FindEndRecord(file);
  if (end == std::string::npos) return files;
  const CentralDirectory cd = ReadEndRecord(file, end, source);
  size_t at = cd.start;
  uint64_t expanded_total = 0;
  for (uint16_t i = 0; i < cd.entries; ++i)
    files.push_back(ReadEntry(file, cd, i, at, expanded_total, source));
  return files;
}

void Append(const std::vector<AssociatedFile>& files, std::vector<uint8_t>& out) {
  // 1980-01-01 00:00: a fixed time keeps written models byte-for-byte reproducible.
  constexpr uint32_t kDosTime = 0, kDosDate = (0 << 9) | (1 << 5) | 1;
  struct Entry {
    uint32_t crc, size, offset;
  };
  std::vector<Entry> entries;
  for (const AssociatedFile& f : files) {
    Entry e{Crc(f.content), static_cast<uint32_t>(f.content.size()),
            static_cast<uint32_t>(out.size())};
    Put32(out, kLocalHeader);
    Put16(out, 20);  // version needed: 2.0
    Put16(out, 0);   // flags
    Put16(out, 0);   // stored
    Put16(out, kDosTime);
    Put16(out, kDosDate);
    Put32(out, e.crc);
    Put32(out, e.size);
    Put32(out, e.size);
    Put16(out, static_cast<uint32_t>(f.name.size()));
    Put16(out, 0);
    out.insert(out.end(), f.name.begin(), f.name.end());
    out.insert(out.end(), f.content.begin(), f.content.end());
    entries.push_back(e);
  }
  uint32_t cd_offset = static_cast<uint32_t>(out.size());
  for (size_t i = 0; i < files.size(); ++i) {
    const Entry& e = entries[i];
    Put32(out, kCentralHeader);
    Put16(out, 20);  // made by
    Put16(out, 20);  // needed
    Put16(out, 0);
    Put16(out, 0);
    Put16(out, kDosTime);
    Put16(out, kDosDate);
    Put32(out, e.crc);
    Put32(out, e.size);
    Put32(out, e.size);
    Put16(out, static_cast<uint32_t>(files[i].name.size()));
    Put16(out, 0);  // extra
    Put16(out, 0);  // comment
    Put16(out, 0);  // disk
    Put16(out, 0);  // internal attributes
    Put32(out, 0);  // external attributes
    Put32(out, e.offset);
    out.insert(out.end(), files[i].name.begin(), files[i].name.end());
  }
  uint32_t cd_size = static_cast<uint32_t>(out.size()) - cd_offset;
  Put32(out, kEndOfCentralDirectory);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, static_cast<uint32_t>(files.size()));
  Put16(out, static_cast<uint32_t>(files.size()));
  Put32(out, cd_size);
  Put32(out, cd_offset);
  Put16(out, 0);
}

}  // namespace lockstep::zip
