// dcmtk_floor.cc - the speed floor for a dcmtk-based de-identifier: load every
// file with DcmFileFormat and save it again, nothing else (no tag edits, no
// UID mapping, no threads).  One process for the whole batch.
//
//   dcmtk_floor OUTDIR INPUT...     (INPUT: files or folders, recursive)
//
// Build (Debian 12, libdcmtk-dev; its dcmtk.pc is unusable without sndfile.pc):
//   g++ -O2 -std=c++17 dcmtk_floor.cc -o dcmtk_floor -ldcmdata -loflog -lofstd -lz -lpthread
// Prints "files ok, failed, bytes read" on stderr; exit 0 even when some
// files fail to load (like the peers, bad inputs are counted, not fatal).
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/oflog/oflog.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUTDIR INPUT...\n", argv[0]);
    return 2;
  }
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL);  // quiet, like a batch tool
  fs::path out(argv[1]);
  std::error_code ec;
  fs::create_directories(out, ec);
  std::vector<fs::path> inputs;
  for (int i = 2; i < argc; i++) {
    fs::path p(argv[i]);
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec)) inputs.push_back(it->path());
      }
    } else {
      inputs.push_back(p);
    }
  }
  size_t ok = 0, failed = 0;
  uintmax_t bytes = 0;
  for (size_t i = 0; i < inputs.size(); i++) {
    DcmFileFormat ff;
    std::string dst = (out / (std::to_string(i) + ".dcm")).string();
    OFCondition c = ff.loadFile(inputs[i].c_str());
    if (c.good()) c = ff.saveFile(dst.c_str(), EXS_Unknown);
    if (c.bad()) fs::remove(dst, ec);  // a failed save may leave a partial file
    if (c.good()) {
      ok++;
      bytes += fs::file_size(inputs[i], ec);
    } else {
      failed++;
    }
  }
  std::fprintf(stderr, "dcmtk_floor: %zu ok, %zu failed, %ju bytes\n", ok, failed, bytes);
  return 0;
}
