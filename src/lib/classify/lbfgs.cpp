#include "finegrain/classify/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace fg {
namespace {

// Minimiser of the cubic through (a, fa, ga) and (b, fb, gb), safeguarded into
// the interval between a and b (bisection when the cubic is not usable).
double cubic_min(double a, double fa, double ga, double b, double fb, double gb) {
  double d1 = ga + gb - 3.0 * (fa - fb) / (a - b);
  double disc = d1 * d1 - ga * gb;
  double lo = std::min(a, b), hi = std::max(a, b);
  if (disc >= 0.0) {
    double d2 = std::copysign(std::sqrt(disc), b - a);
    double t = b - (b - a) * (gb + d2 - d1) / (gb - ga + 2.0 * d2);
    double margin = 0.1 * (hi - lo);
    if (std::isfinite(t) && t > lo + margin && t < hi - margin) return t;
  }
  return 0.5 * (a + b);
}

struct Point {
  double t, f, g;  // step, value, directional derivative
};

}  // namespace

LbfgsResult minimize_lbfgs(const Objective& objective, Eigen::VectorXd& x,
                           const LbfgsOptions& opt) {
  using Eigen::VectorXd;
  LbfgsResult r;
  const Eigen::Index n = x.size();
  VectorXd g(n), g_new(n), x_new(n), d(n);
  double f = objective(x, g);
  r.evaluations = 1;
  std::deque<VectorXd> S, Y;
  std::deque<double> rho;
  std::vector<double> alpha(opt.memory);

  double last_t = -1.0;
  auto evaluate = [&](double t) {
    last_t = t;
    x_new = x + t * d;
    double fv = objective(x_new, g_new);
    ++r.evaluations;
    return Point{t, fv, g_new.dot(d)};
  };

  for (;;) {
    r.f = f;
    r.gradient_max = g.size() ? g.cwiseAbs().maxCoeff() : 0.0;
    if (!std::isfinite(f)) {
      r.reason = "objective is not finite";
      return r;
    }
    if (r.gradient_max <= opt.gtol) {
      r.converged = true;
      r.reason = "gradient below tolerance";
      return r;
    }
    if (r.iterations >= opt.max_iterations) {
      r.reason = "iteration limit reached";
      return r;
    }
    // Two-loop recursion: d = -H g.
    d = -g;
    const int m = static_cast<int>(S.size());
    for (int i = m - 1; i >= 0; --i) {
      alpha[i] = rho[i] * S[i].dot(d);
      d -= alpha[i] * Y[i];
    }
    if (m > 0) d *= S.back().dot(Y.back()) / Y.back().squaredNorm();
    for (int i = 0; i < m; ++i) {
      double beta = rho[i] * Y[i].dot(d);
      d += (alpha[i] - beta) * S[i];
    }
    Point p0{0.0, f, g.dot(d)};
    if (p0.g >= 0.0) {  // not a descent direction (numerical trouble): restart
      S.clear(), Y.clear(), rho.clear();
      d = -g;
      p0.g = g.dot(d);
    }
    double t = (m == 0) ? std::min(1.0, 1.0 / std::max(d.norm(), 1e-300)) : 1.0;

    // Strong Wolfe line search: bracket, then zoom.
    Point prev = p0, best{0, 0, 0};
    bool found = false;
    // Zoom into [lo, hi] (lo: the end with sufficient decrease); an infinite
    // or NaN end is bisected instead of interpolated.
    auto zoom = [&](Point lo, Point hi) {
      for (int z = 0; z < 40; ++z) {
        double tz = std::isfinite(hi.f) ? cubic_min(lo.t, lo.f, lo.g, hi.t, hi.f, hi.g)
                                        : 0.5 * (lo.t + hi.t);
        Point q = evaluate(tz);
        if (!std::isfinite(q.f) || q.f > f + opt.c1 * q.t * p0.g || q.f >= lo.f) {
          hi = q;
        } else {
          if (std::fabs(q.g) <= -opt.c2 * p0.g) {
            best = q, found = true;
            return;
          }
          if (q.g * (hi.t - lo.t) >= 0.0) hi = lo;
          lo = q;
        }
        if (std::fabs(hi.t - lo.t) < 1e-16 * std::max(1.0, lo.t)) break;
      }
      if (lo.t > 0.0) {  // accept the best sufficient-decrease point
        best = evaluate(lo.t);
        found = true;
      }
    };
    for (int ls = 0; ls < 40 && !found; ++ls) {
      Point p = evaluate(t);
      if (!std::isfinite(p.f) || p.f > f + opt.c1 * p.t * p0.g || (ls > 0 && p.f >= prev.f)) {
        zoom(prev, p);
        break;
      }
      if (std::fabs(p.g) <= -opt.c2 * p0.g) {
        best = p, found = true;
        break;
      }
      if (p.g >= 0.0) {
        zoom(p, prev);
        break;
      }
      prev = p;
      t *= 2.0;
    }
    if (!found || !(best.f <= f)) {
      r.converged = true;  // no further decrease possible at machine precision
      r.reason = "line search could not decrease the objective";
      return r;
    }
    // x_new / g_new hold the last evaluation; make sure they belong to best.t
    if (last_t != best.t) best = evaluate(best.t);
    VectorXd s = x_new - x, y = g_new - g;
    double f_old = f;
    x = x_new;
    g = g_new;
    f = best.f;
    ++r.iterations;
    double sy = s.dot(y);
    if (sy > 1e-12 * y.squaredNorm()) {
      if (static_cast<int>(S.size()) == opt.memory) S.pop_front(), Y.pop_front(), rho.pop_front();
      S.push_back(std::move(s));
      Y.push_back(std::move(y));
      rho.push_back(1.0 / sy);
    }
    if (f_old - f <= opt.ftol * std::max({std::fabs(f_old), std::fabs(f), 1.0})) {
      r.f = f;
      r.gradient_max = g.cwiseAbs().maxCoeff();
      r.converged = true;
      r.reason = "relative decrease below tolerance";
      return r;
    }
  }
}

}  // namespace fg
