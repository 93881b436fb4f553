// exceptions — C++ exceptions thrown across several frames: the unwinder finds each frame
// from its return address in .eh_frame, runs destructors on the way, matches by base
// class, rethrows, and nests try blocks. Any return address that is not the original one
// breaks unwinding (std::terminate).
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

static long destroyed;
static std::vector<std::string> trail;

struct Guard {
    int id;
    explicit Guard(int i) : id(i) {}
    ~Guard() { destroyed += id; }
};

struct AppError : std::runtime_error {
    int depth;
    AppError(const std::string &m, int d) : std::runtime_error(m), depth(d) {}
};
struct DeepError : AppError {
    using AppError::AppError;
};

__attribute__((noinline)) static int level(int depth, int throw_at, int kind)
{
    Guard g(depth);
    std::unique_ptr<int> heap(new int(depth));
    if (depth == throw_at) {
        switch (kind % 4) {
        case 0: throw DeepError("deep", depth);
        case 1: throw AppError("app", depth);
        case 2: throw std::out_of_range("range");
        default: throw depth;
        }
    }
    return level(depth + 1, throw_at, kind) + *heap;
}

__attribute__((noinline)) static int middle(int throw_at, int kind)
{
    try {
        return level(0, throw_at, kind);
    } catch (const DeepError &e) {
        trail.push_back("middle caught deep at " + std::to_string(e.depth) + ", rethrow");
        throw;
    }
}

__attribute__((noinline)) static std::string outer(int throw_at, int kind)
{
    try {
        middle(throw_at, kind);
        return "no throw";
    } catch (const AppError &e) {
        return std::string("AppError(") + e.what() + "," + std::to_string(e.depth) + ")";
    } catch (const std::exception &e) {
        return std::string("std::exception(") + e.what() + ")";
    } catch (int d) {
        return "int(" + std::to_string(d) + ")";
    }
}

struct Throwing {
    Guard a{1000}, b{2000};
    Throwing() { throw std::logic_error("ctor"); }
};

int main()
{
    for (int k = 0; k < 4; k++)
        std::printf("kind %d: %s\n", k, outer(5 + k, k).c_str());
    for (const auto &t : trail)
        std::printf("trail: %s\n", t.c_str());
    std::printf("destroyed so far: %ld\n", destroyed);

    long caught = 0;
    for (int i = 0; i < 10000; i++) {
        try {
            level(0, i % 20, i);
        } catch (const std::exception &) {
            caught += 1;
        } catch (int d) {
            caught += 100 + d;
        }
    }
    std::printf("hot loop: caught=%ld destroyed=%ld\n", caught, destroyed);

    try {
        Throwing t;
    } catch (const std::logic_error &e) {
        std::printf("constructor threw %s, members destroyed=%ld\n", e.what(), destroyed);
    }

    std::exception_ptr saved;
    try {
        throw std::runtime_error("saved for later");
    } catch (...) {
        saved = std::current_exception();
    }
    try {
        std::rethrow_exception(saved);
    } catch (const std::runtime_error &e) {
        std::fprintf(stderr, "rethrown: %s\n", e.what());
    }
    return 15;
}
