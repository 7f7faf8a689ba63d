/* Steady tone detection for vadsplit; see copilot-vad-tone.h. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "copilot-vad-tone.h"

/* The analysis window lasts at least this long (in ms); at every supported
 * rate the FFT bins are then at most 31.25 Hz wide. */
#define WINDOW_MS 32
/* The band that is analysed: the telephone band, where ringback, hold
 * tones and DTMF live. */
#define BAND_LOW_HZ 100
#define BAND_HIGH_HZ 3800
/* A Hann window puts a sine's energy into +-2 bins around its peak. */
#define PEAK_HALF_WIDTH 2
/* Share of the band's energy that must sit in the two strongest peaks for
 * a window to count as tonal.  Pure and dual tones reach > 0.95 even under
 * -35 dBFS line noise; voiced speech spreads over several harmonics and
 * stays mostly below 0.7. */
#define CONCENTRATION_THRESHOLD 0.85
/* A tone's frequency does not move.  Between consecutive windows its peak
 * may only jitter (by at most STEP_JITTER_HZ, which modulated ringback
 * reaches), and over the run the least-squares trend of the peak frequency
 * may not add up to more than MAX_DRIFT_HZ: even flat speech intonation
 * glides the harmonics by more than that within a couple of hundred
 * milliseconds. */
#define STEP_JITTER_HZ 4.0
#define MAX_DRIFT_HZ 3.0
/* How many windows the drift estimate looks back. */
#define DRIFT_HISTORY 16
/* A second peak with less than this share of the first one's energy is
 * ignored. */
#define MIN_SECOND_PEAK 0.05
/* Two peaks an octave apart with the lower one in the voice pitch range
 * are the first harmonics of a voice, not a tone. */
#define MAX_PITCH_HZ 500.0
/* Windows quieter than this (mean square relative to full scale, about
 * -60 dBFS) are never tonal: there is nothing to reject. */
#define MIN_ENERGY 1e-6

struct _CopilotVadTone
{
  guint rate;
  guint n;                      /* FFT size, a power of two */
  guint lo_bin, hi_bin;
  gfloat *ring;                 /* last n input samples, scaled to [-1, 1) */
  guint ring_pos;
  guint filled;
  gfloat *window;
  gfloat *re, *im;
  gfloat *cos_table, *sin_table;        /* n / 2 twiddle factors */
  gdouble prev_peaks[2];        /* peak frequencies of the previous window, or -1 */
  gdouble run_peaks[2];         /* peak frequencies where the run started */
  gdouble deviation[DRIFT_HISTORY];     /* of the strongest peak from run_peaks */
  guint run;
};

/**
 * copilot_vad_tone_new:
 * @rate: sample rate in Hz
 *
 * Returns: (transfer full): a new detector for mono audio at @rate
 */
CopilotVadTone *
copilot_vad_tone_new (guint rate)
{
  CopilotVadTone *self = g_new0 (CopilotVadTone, 1);
  guint want = rate * WINDOW_MS / 1000;
  guint i;

  g_return_val_if_fail (rate >= 8000, NULL);

  self->rate = rate;
  self->n = 1;
  while (self->n < want)
    self->n <<= 1;
  self->lo_bin = BAND_LOW_HZ * self->n / rate;
  self->hi_bin = MIN (BAND_HIGH_HZ, rate / 2 - 100) * self->n / rate;
  self->ring = g_new0 (gfloat, self->n);
  self->window = g_new (gfloat, self->n);
  self->re = g_new (gfloat, self->n);
  self->im = g_new (gfloat, self->n);
  self->cos_table = g_new (gfloat, self->n / 2);
  self->sin_table = g_new (gfloat, self->n / 2);
  for (i = 0; i < self->n; i++)
    self->window[i] = 0.5 - 0.5 * cos (2.0 * G_PI * i / self->n);
  for (i = 0; i < self->n / 2; i++) {
    self->cos_table[i] = cos (2.0 * G_PI * i / self->n);
    self->sin_table[i] = -sin (2.0 * G_PI * i / self->n);
  }
  copilot_vad_tone_reset (self);
  return self;
}

void
copilot_vad_tone_free (CopilotVadTone * self)
{
  if (self == NULL)
    return;
  g_free (self->ring);
  g_free (self->window);
  g_free (self->re);
  g_free (self->im);
  g_free (self->cos_table);
  g_free (self->sin_table);
  g_free (self);
}

/**
 * copilot_vad_tone_reset:
 * @self: a detector
 *
 * Forgets all past audio, as after a discontinuity.
 */
void
copilot_vad_tone_reset (CopilotVadTone * self)
{
  memset (self->ring, 0, self->n * sizeof (gfloat));
  self->ring_pos = 0;
  self->filled = 0;
  self->prev_peaks[0] = self->prev_peaks[1] = -1.0;
  self->run_peaks[0] = self->run_peaks[1] = -1.0;
  self->run = 0;
}

/* An iterative radix-2 FFT of re/im in place. */
static void
fft (CopilotVadTone * self)
{
  guint n = self->n;
  guint i, j, len;

  for (i = 1, j = 0; i < n; i++) {
    guint bit = n >> 1;

    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j) {
      gfloat t = self->re[i];

      self->re[i] = self->re[j];
      self->re[j] = t;
      t = self->im[i];
      self->im[i] = self->im[j];
      self->im[j] = t;
    }
  }

  for (len = 2; len <= n; len <<= 1) {
    guint half = len / 2;
    guint step = n / len;

    for (i = 0; i < n; i += len) {
      for (j = 0; j < half; j++) {
        gfloat wr = self->cos_table[j * step];
        gfloat wi = self->sin_table[j * step];
        guint a = i + j, b = i + j + half;
        gfloat xr = self->re[b] * wr - self->im[b] * wi;
        gfloat xi = self->re[b] * wi + self->im[b] * wr;

        self->re[b] = self->re[a] - xr;
        self->im[b] = self->im[a] - xi;
        self->re[a] += xr;
        self->im[a] += xi;
      }
    }
  }
}

/* Returns the index of the peak of @peaks within @tolerance of @freq, or
 * -1. */
static gint
near_one_of (const gdouble peaks[2], gdouble freq, gdouble tolerance)
{
  gint i;

  for (i = 0; i < 2; i++) {
    if (peaks[i] >= 0.0 && fabs (freq - peaks[i]) <= tolerance)
      return i;
  }
  return -1;
}

/* Returns the frequency change (Hz) over the last @n deviations implied by
 * their least-squares slope. */
static gdouble
drift (CopilotVadTone * self, guint n)
{
  gdouble sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0, den;
  guint i;

  if (n < 3)
    return 0.0;
  for (i = 0; i < n; i++) {
    gdouble y = self->deviation[(self->run - n + i) % DRIFT_HISTORY];

    sx += i;
    sy += y;
    sxx += (gdouble) i *i;
    sxy += i * y;
  }
  den = n * sxx - sx * sx;
  return den > 0.0 ? fabs ((n * sxy - sx * sy) / den) * (n - 1) : 0.0;
}

/* Returns the power-weighted centre frequency of the peak at @bin.  For two
 * lines sharing one lobe (an amplitude-modulated tone) it stays at their
 * mean whatever their relative phase. */
static gdouble
peak_centroid (CopilotVadTone * self, gint bin)
{
  gdouble sum = 0.0, weighted = 0.0;
  gint k;

  if (bin < 0)
    return -1.0;
  for (k = MAX ((gint) self->lo_bin, bin - PEAK_HALF_WIDTH);
      k <= MIN ((gint) self->hi_bin, bin + PEAK_HALF_WIDTH); k++) {
    sum += self->re[k];
    weighted += self->re[k] * k;
  }
  return sum > 0.0 ? weighted / sum * self->rate / self->n : -1.0;
}

/**
 * copilot_vad_tone_process:
 * @self: a detector
 * @samples: (array length=n_samples): the next mono samples
 * @n_samples: how many
 * @concentration: (out) (optional): share of the band's energy found in the
 *   two strongest spectral peaks of the latest window
 *
 * Appends @samples to the analysis history and examines the latest window.
 * A window is tonal when nearly all its energy is concentrated in one or
 * two narrow peaks; consecutive tonal windows form a run as long as the
 * strongest peak stays within one bin of a peak of the previous window.
 *
 * Returns: the length, in calls, of the current run of steady tonal
 *   windows, or 0 when the latest window is not tonal
 */
guint
copilot_vad_tone_process (CopilotVadTone * self, const gint16 * samples,
    gsize n_samples, gdouble * concentration)
{
  gdouble total = 0.0, energy = 0.0, in_peak1 = 0.0, in_peak2 = 0.0, conc;
  gdouble f1 = -1.0, f2 = -1.0, low, high;
  gdouble best = -1.0, second = -1.0;
  gint peak1 = -1, peak2 = -1;
  guint i, k;
  gboolean tonal;

  if (concentration)
    *concentration = 0.0;

  for (i = 0; i < n_samples; i++) {
    self->ring[self->ring_pos] = samples[i] / 32768.0f;
    self->ring_pos = (self->ring_pos + 1) % self->n;
  }
  self->filled = MIN (self->n, self->filled + n_samples);
  if (self->filled < self->n) {
    self->run = 0;
    return 0;
  }

  for (i = 0; i < self->n; i++) {
    gfloat v = self->ring[(self->ring_pos + i) % self->n];

    energy += v * v;
    self->re[i] = v * self->window[i];
    self->im[i] = 0.0f;
  }
  energy /= self->n;
  fft (self);

  /* Reuse re[] for the power spectrum of the analysed band. */
  for (k = self->lo_bin; k <= self->hi_bin; k++) {
    gdouble p = (gdouble) self->re[k] * self->re[k] +
        (gdouble) self->im[k] * self->im[k];

    self->re[k] = p;
    total += p;
    if (p > best) {
      best = p;
      peak1 = k;
    }
  }
  for (k = self->lo_bin; k <= self->hi_bin; k++) {
    if (ABS ((gint) k - peak1) <= 2 * PEAK_HALF_WIDTH)
      continue;
    if (self->re[k] > second) {
      second = self->re[k];
      peak2 = k;
    }
  }
  for (k = self->lo_bin; k <= self->hi_bin; k++) {
    if (ABS ((gint) k - peak1) <= PEAK_HALF_WIDTH)
      in_peak1 += self->re[k];
    else if (peak2 >= 0 && ABS ((gint) k - peak2) <= PEAK_HALF_WIDTH)
      in_peak2 += self->re[k];
  }
  conc = total > 0.0 ? (in_peak1 + in_peak2) / total : 0.0;
  if (concentration)
    *concentration = conc;

  /* A second peak much weaker than the first is only noise or leakage. */
  if (in_peak2 < MIN_SECOND_PEAK * in_peak1)
    peak2 = -1;

  tonal = energy >= MIN_ENERGY && conc >= CONCENTRATION_THRESHOLD;
  if (tonal) {
    f1 = peak_centroid (self, peak1);
    f2 = peak_centroid (self, peak2);
    low = f2 > 0.0 ? MIN (f1, f2) : -1.0;
    high = MAX (f1, f2);
    if (low > 0.0 && low < MAX_PITCH_HZ && fabs (high / low - 2.0) < 0.15)
      tonal = FALSE;
  }

  if (tonal) {
    gint j = self->run > 0 ?
        near_one_of (self->prev_peaks, f1, STEP_JITTER_HZ) : -1;

    if (j >= 0)
      j = near_one_of (self->run_peaks, f1, 2.0 * STEP_JITTER_HZ);
    if (j >= 0) {
      self->deviation[self->run % DRIFT_HISTORY] = f1 - self->run_peaks[j];
      self->run++;
      if (drift (self, MIN (self->run, DRIFT_HISTORY)) > MAX_DRIFT_HZ)
        j = -1;
    }
    if (j < 0) {
      self->run = 1;
      self->run_peaks[0] = f1;
      self->run_peaks[1] = f2;
      self->deviation[0] = 0.0;
    }
    self->prev_peaks[0] = f1;
    self->prev_peaks[1] = f2;
  } else {
    self->run = 0;
    self->prev_peaks[0] = self->prev_peaks[1] = -1.0;
  }
  return self->run;
}
