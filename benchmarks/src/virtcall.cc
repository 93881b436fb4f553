/* virtcall.cc — C++ virtual calls: an array of objects of four classes behind a common
 * abstract base, updated and queried through virtual methods in a mixed order.
 * Stresses: indirect calls through vtables with several targets per call site
 * (not devirtualizable), returns from them, small methods.
 * Usage: virtcall [ITERS]   (default 250000 passes over 1000 objects). Prints a checksum. */
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <vector>

struct Shape {
    virtual ~Shape() {}
    virtual uint64_t area() const = 0;
    virtual void grow(uint32_t by) = 0;
};

struct Square : Shape {
    uint32_t s;
    explicit Square(uint32_t s) : s(s) {}
    uint64_t area() const override { return (uint64_t)s * s; }
    void grow(uint32_t by) override { s = (s + by) & 1023; }
};

struct Rect : Shape {
    uint32_t w, h;
    Rect(uint32_t w, uint32_t h) : w(w), h(h) {}
    uint64_t area() const override { return (uint64_t)w * h; }
    void grow(uint32_t by) override { w = (w + by) & 1023; h = (h ^ by) & 1023; }
};

struct Triangle : Shape {
    uint32_t b, h;
    Triangle(uint32_t b, uint32_t h) : b(b), h(h) {}
    uint64_t area() const override { return (uint64_t)b * h / 2; }
    void grow(uint32_t by) override { b = (b * 3 + by) & 1023; }
};

struct Circle : Shape {
    uint32_t r;
    explicit Circle(uint32_t r) : r(r) {}
    uint64_t area() const override { return (uint64_t)r * r * 355 / 113; }
    void grow(uint32_t by) override { r = (r + (by >> 1)) & 1023; }
};

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 250000;
    std::vector<Shape *> shapes;
    uint32_t seed = 2024;
    for (int i = 0; i < 1000; i++) {
        seed = seed * 1664525u + 1013904223u;
        uint32_t a = (seed >> 8) & 1023, b = (seed >> 18) & 1023;
        switch ((seed >> 28) & 3) {
        case 0: shapes.push_back(new Square(a)); break;
        case 1: shapes.push_back(new Rect(a, b)); break;
        case 2: shapes.push_back(new Triangle(a, b)); break;
        default: shapes.push_back(new Circle(a)); break;
        }
    }
    uint64_t check = 0;
    for (long it = 0; it < iters; it++) {
        for (Shape *s : shapes) {
            check = check * 1000003u + s->area();
            s->grow((uint32_t)(check >> 40) & 15);
        }
    }
    std::printf("virtcall iters=%ld checksum=%llu\n", iters, (unsigned long long)check);
    for (Shape *s : shapes)
        delete s;
    return 0;
}
