// The keys of the case review.
export const SHORTCUTS: [string, string][] = [
  ["n", "Start reviewing / next case (claims the next case)"],
  ["a", "Approve (GREEN)"],
  ["r", "Reject (RED)"],
  ["f / t", "Reject type FINAL / RETRY"],
  ["/", "Search rejection labels; Enter picks the first match"],
  ["Ctrl+Enter", "Submit the decision"],
  ["?", "This help; Esc closes it"],
];

// The keys of the video call screen (desktop app).
export const CALL_SHORTCUTS: [string, string][] = [
  ["n", "Take the next applicant from the waiting room"],
  ["s / Space", "Screenshot for the step the interview is at, from the frame on screen"],
  ["z", "Zoom on a region; the mouse or the arrow keys move it"],
  ["r", "The read-out matches"],
  ["t", "Send the TAN"],
  ["m", "Mute or unmute your microphone"],
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <div class="overlay" role="dialog" aria-label="Keyboard shortcuts" onClick={onClose}>
      <div class="panel">
        <h2>Keyboard shortcuts</h2>
        {(
          [
            ["Case review", SHORTCUTS],
            ["Video call (desktop app)", CALL_SHORTCUTS],
          ] as const
        ).map(([title, keys]) => (
          <table key={title}>
            <caption>{title}</caption>
            <tbody>
              {keys.map(([key, what]) => (
                <tr key={key}>
                  <td>
                    <kbd>{key}</kbd>
                  </td>
                  <td>{what}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </div>
    </div>
  );
}
