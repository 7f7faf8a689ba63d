/* Prototypes of the plain-C WebRTC voice activity detector.
 *
 * Debian's libwebrtc-audio-processing (0.3) builds the detector from
 * common_audio/vad/webrtc_vad.c and exports it with C linkage
 * (`nm -D` lists WebRtcVad_Create and friends unmangled), but does not
 * install its header, so the few functions vadsplit calls are declared
 * here with the signatures of that release. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

  typedef struct WebRtcVadInst VadInst;

/* Returns a new detector (NULL when out of memory); it must be initialised
 * with WebRtcVad_Init() before use and released with WebRtcVad_Free(). */
  VadInst *WebRtcVad_Create (void);
  void WebRtcVad_Free (VadInst * handle);

/* Both return 0 on success and -1 on error (bad handle or mode). */
  int WebRtcVad_Init (VadInst * handle);
  int WebRtcVad_set_mode (VadInst * handle, int mode);

/* Classifies one 10, 20 or 30 ms frame sampled at 8, 16, 32 or 48 kHz:
 * returns 1 for speech, 0 for non-speech and -1 on error. */
  int WebRtcVad_Process (VadInst * handle, int fs, const int16_t * audio_frame,
      size_t frame_length);

/* Returns 0 when @rate and @frame_length form a valid combination. */
  int WebRtcVad_ValidRateAndFrameLength (int rate, size_t frame_length);

#ifdef __cplusplus
}
#endif
