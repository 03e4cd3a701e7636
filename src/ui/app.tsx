export function App() {
  return (
    <main>
      <h1>Raft Playground</h1>
      <p>The playground is under construction.</p>
    </main>
  );
}
