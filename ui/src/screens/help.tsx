export const SHORTCUTS: [string, string][] = [
  ["n", "Start reviewing / next case (claims the next case)"],
  ["a", "Approve (GREEN)"],
  ["r", "Reject (RED)"],
  ["f / t", "Reject type FINAL / RETRY"],
  ["/", "Search rejection labels; Enter picks the first match"],
  ["Ctrl+Enter", "Submit the decision"],
  ["?", "This help; Esc closes it"],
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <div class="overlay" role="dialog" aria-label="Keyboard shortcuts" onClick={onClose}>
      <div class="panel">
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {SHORTCUTS.map(([key, what]) => (
              <tr key={key}>
                <td><kbd>{key}</kbd></td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
